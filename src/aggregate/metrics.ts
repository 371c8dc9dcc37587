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

/**
 * The mean signed error, to the digits the MAE has. Its sum cancels: errors of +0.7 and -0.7
 * minutes leave a residue of the absolute errors' size (4.4e-16), not of the result's, and 12
 * significant digits of that residue would report a sign the data do not have.
 */
function bias(a: Aggregate): number | null {
  if (a.errorSum === null || a.labelled <= 0) return null;
  const mae = a.errorAbsSum / a.labelled;
  if (!(mae > 0)) return 0;
  const quantum = 10 ** (Math.floor(Math.log10(mae)) - (SIGNIFICANT_DIGITS - 1));
  // `|| 0`: no negative zero (prom-client would print -0).
  return rounded(Math.round(a.errorSum / a.labelled / quantum) * quantum) || 0;
}

export function metricsOf(a: Aggregate): QualityMetrics {
  const n = a.labelled;
  const hasSpread = n >= 2 && a.actualM2 > SPREAD_RESOLUTION * n * (1 + a.actualMean * a.actualMean);
  return {
    predictions: a.predictions,
    count: n,
    mae: ratio(a.errorAbsSum, n),
    rmse: n > 0 ? rounded(Math.sqrt(Math.max(0, a.errorSqSum) / n)) : null,
    bias: bias(a),
    r2: hasSpread ? rounded(1 - a.errorSqSum / a.actualM2) : null,
    accuracy_rate: ratio(a.accurate, n),
    avg_confidence: ratio(a.confidenceSum, a.predictions),
    avg_prediction_time_ms: ratio(a.latencySumMs, a.latencyCount),
    anomalies: a.anomalies,
  };
}
