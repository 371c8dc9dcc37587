/**
 * A mergeable summary of a set of predictions: what a rollup bucket stores and what a window
 * sums to. Counts may be negative in a delta (a correction removes an old contribution).
 * The actuals' spread is kept as Welford/Chan moments (labelled count, mean, M2), never as a raw
 * sum of squares, so R² stays exact when actuals are large with a small spread.
 */
export interface Aggregate {
  predictions: number;
  confidenceSum: number;
  latencyCount: number;
  latencySumMs: number;
  labelled: number;
  accurate: number;
  anomalies: number;
  errorAbsSum: number;
  errorSqSum: number;
  actualMean: number;
  actualM2: number;
  /**
   * The signed errors' sum (predicted - actual), or null when not known: a rollup bucket whose raw
   * rows were dropped before mlmon stored this sum (migration 00011). Unknown in any part is
   * unknown in the whole.
   */
  errorSum: number | null;
}

export const EMPTY_AGGREGATE: Readonly<Aggregate> = Object.freeze({
  predictions: 0,
  confidenceSum: 0,
  latencyCount: 0,
  latencySumMs: 0,
  labelled: 0,
  accurate: 0,
  anomalies: 0,
  errorAbsSum: 0,
  errorSqSum: 0,
  actualMean: 0,
  actualM2: 0,
  errorSum: 0,
});

/**
 * Chan et al.'s parallel merge. With a negative count on one side it is the exact inverse of
 * adding that side, which is how corrections take an old contribution out of a bucket.
 */
export function merge(a: Aggregate, b: Aggregate): Aggregate {
  const labelled = a.labelled + b.labelled;
  let actualMean = 0;
  let actualM2 = 0;
  if (labelled !== 0) {
    const delta = b.actualMean - a.actualMean;
    actualMean = a.actualMean + (delta * b.labelled) / labelled;
    actualM2 = a.actualM2 + b.actualM2 + (delta * delta * a.labelled * b.labelled) / labelled;
  }
  return {
    predictions: a.predictions + b.predictions,
    confidenceSum: a.confidenceSum + b.confidenceSum,
    latencyCount: a.latencyCount + b.latencyCount,
    latencySumMs: a.latencySumMs + b.latencySumMs,
    labelled,
    accurate: a.accurate + b.accurate,
    anomalies: a.anomalies + b.anomalies,
    errorAbsSum: a.errorAbsSum + b.errorAbsSum,
    errorSqSum: a.errorSqSum + b.errorSqSum,
    actualMean,
    actualM2,
    errorSum: a.errorSum === null || b.errorSum === null ? null : a.errorSum + b.errorSum,
  };
}

export function mergeAll(parts: Iterable<Aggregate>): Aggregate {
  let total: Aggregate = EMPTY_AGGREGATE;
  for (const part of parts) total = merge(total, part);
  return total;
}

/** The contribution that, merged in, cancels `a`. */
export function negate(a: Aggregate): Aggregate {
  return {
    predictions: -a.predictions,
    confidenceSum: -a.confidenceSum,
    latencyCount: -a.latencyCount,
    latencySumMs: -a.latencySumMs,
    labelled: -a.labelled,
    accurate: -a.accurate,
    anomalies: -a.anomalies,
    errorAbsSum: -a.errorAbsSum,
    errorSqSum: -a.errorSqSum,
    actualMean: a.actualMean,
    actualM2: -a.actualM2,
    errorSum: a.errorSum === null ? null : -a.errorSum,
  };
}
