import type { Aggregate } from './moments.js';

/** What the API calls a metrics object, less the window description. Errors in minutes. */
export interface QualityMetrics {
  predictions: number;
  count: number;
  mae: number | null;
  rmse: number | null;
  /** Mean of predicted - actual: positive when the model predicts longer delays than happen. */
  bias: number | null;
  r2: number | null;
  accuracy_rate: number | null;
  avg_confidence: number | null;
  avg_prediction_time_ms: number | null;
  anomalies: number;
}

/**
 * Below this relative size the actuals' M2 is rounding residue from corrections, not spread
 * (M2 of values that differ at all is many orders larger for any realistic delay).
 */
const SPREAD_RESOLUTION = 1e-12;

/**
 * Metrics keep 12 significant digits. Binary floating point makes an error of 9.2 - 8.5 minutes
 * 0.6999999999999993, and the sums behind a metric differ in their last digits with the order
 * rows were merged in: digits past the 12th are that residue, never information (the inputs are
 * minutes, probabilities and milliseconds).
 */
const SIGNIFICANT_DIGITS = 12;
/** A derived value as mlmon reports it (API and gauges): 12 significant digits. */
export const rounded = (value: number): number => Number(value.toPrecision(SIGNIFICANT_DIGITS));

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? rounded(numerator / denominator) : null;
}

export function metricsOf(a: Aggregate): QualityMetrics {
  const n = a.labelled;
  const hasSpread = n >= 2 && a.actualM2 > SPREAD_RESOLUTION * n * (1 + a.actualMean * a.actualMean);
  return {
    predictions: a.predictions,
    count: n,
    mae: ratio(a.errorAbsSum, n),
    rmse: n > 0 ? rounded(Math.sqrt(Math.max(0, a.errorSqSum) / n)) : null,
    bias: a.errorSum === null ? null : ratio(a.errorSum, n),
    r2: hasSpread ? rounded(1 - a.errorSqSum / a.actualM2) : null,
    accuracy_rate: ratio(a.accurate, n),
    avg_confidence: ratio(a.confidenceSum, a.predictions),
    avg_prediction_time_ms: ratio(a.latencySumMs, a.latencyCount),
    anomalies: a.anomalies,
  };
}
