import { EMPTY_AGGREGATE, merge, mergeAll, negate, type Aggregate } from '../../src/aggregate/moments.js';
import { metricsOf } from '../../src/aggregate/metrics.js';

const aggregate = (over: Partial<Aggregate>): Aggregate => ({ ...EMPTY_AGGREGATE, ...over });
/** One labelled prediction, as the rollups hold it. */
const leaf = (predicted: number, actual: number): Aggregate =>
  aggregate({
    predictions: 1,
    labelled: 1,
    errorAbsSum: Math.abs(predicted - actual),
    errorSqSum: (predicted - actual) ** 2,
    actualMean: actual,
    errorSum: predicted - actual,
  });

describe('metricsOf (src/aggregate/metrics.ts)', () => {
  it('an empty window: counts 0, every average null', () => {
    expect(metricsOf(EMPTY_AGGREGATE)).toEqual({
      predictions: 0,
      count: 0,
      mae: null,
      rmse: null,
      bias: null,
      r2: null,
      accuracy_rate: null,
      avg_confidence: null,
      avg_prediction_time_ms: null,
      anomalies: 0,
    });
  });

  it('predictions without actuals: confidence and latency, error metrics null', () => {
    const m = metricsOf(aggregate({ predictions: 4, confidenceSum: 3, latencyCount: 2, latencySumMs: 300 }));
    expect(m).toMatchObject({ predictions: 4, count: 0, mae: null, rmse: null, r2: null, accuracy_rate: null, anomalies: 0 });
    expect(m.avg_confidence).toBe(0.75);
    expect(m.avg_prediction_time_ms).toBe(150); // over the 2 that reported a latency, not the 4
  });

  it('no latency reported: avg_prediction_time_ms null even with predictions', () => {
    expect(metricsOf(aggregate({ predictions: 2, confidenceSum: 1 })).avg_prediction_time_ms).toBeNull();
  });

  it('the seed example: predicted 8.5, actual 9.2 -> error 0.7, accurate', () => {
    const error = Math.abs(8.5 - 9.2);
    const m = metricsOf(
      aggregate({ predictions: 1, confidenceSum: 0.9, labelled: 1, accurate: 1, errorAbsSum: error, errorSqSum: error ** 2, actualMean: 9.2 }),
    );
    expect(m.mae).toBeCloseTo(0.7, 12);
    expect(m.rmse).toBeCloseTo(0.7, 12);
    expect(m.accuracy_rate).toBe(1);
    expect(m.r2).toBeNull(); // count < 2
  });

  it('r2 is null when the actuals have no spread, a number when they do', () => {
    // two actuals both 500: M2 = 0
    expect(metricsOf(aggregate({ predictions: 2, labelled: 2, errorSqSum: 2, actualMean: 500, actualM2: 0 })).r2).toBeNull();
    // rounding residue from corrections is not spread
    expect(metricsOf(aggregate({ predictions: 2, labelled: 2, errorSqSum: 2, actualMean: 500, actualM2: 1e-20 })).r2).toBeNull();
    // 499.5 and 500.5: M2 = 0.5; errors 0.1 each -> SSres 0.02
    const r2 = metricsOf(aggregate({ predictions: 2, labelled: 2, errorSqSum: 0.02, actualMean: 500, actualM2: 0.5 })).r2;
    expect(r2).toBeCloseTo(1 - 0.02 / 0.5, 12);
  });

  it('bias is the mean signed error: over- and underestimates cancel, unlike in the MAE', () => {
    const m = metricsOf(mergeAll([leaf(10, 8), leaf(6, 8), leaf(9, 8)]));
    expect(m.bias).toBe(0.33333333333); // (2 - 2 + 1) / 3, to the digits of the MAE (1.66666666667)
    expect(m.mae).toBe(1.66666666667);
    expect(metricsOf(mergeAll([leaf(5, 8), leaf(6, 8)])).bias).toBe(-2.5); // shorter delays predicted than happened
  });

  it('bias keeps the digits of the MAE: errors that cancel give 0, not a residue with a sign', () => {
    expect(Math.abs(8.5 - 9.2) - Math.abs(7.8 - 8.5)).not.toBe(0); // 4.4e-16 in binary floating point
    expect(Object.is(metricsOf(mergeAll([leaf(9.2, 8.5), leaf(7.8, 8.5)])).bias, 0)).toBe(true);
    expect(Object.is(metricsOf(mergeAll([leaf(12.3, 10.1), leaf(7.9, 10.1)])).bias, 0)).toBe(true);
    expect(metricsOf(mergeAll([leaf(1000.2, 1000), leaf(999.9, 1000)])).bias).toBe(0.05);
    expect(metricsOf(aggregate({ predictions: 2, labelled: 2, errorSum: 0 })).bias).toBe(0); // every error 0
  });

  it('bias is null without labelled predictions, and when a part of the window has no known signed sum', () => {
    expect(metricsOf(aggregate({ predictions: 3, confidenceSum: 1 })).bias).toBeNull();
    const unknown = aggregate({ predictions: 2, labelled: 2, errorAbsSum: 2, errorSqSum: 2, actualMean: 5, errorSum: null });
    const m = metricsOf(merge(leaf(10, 8), unknown));
    expect(m.bias).toBeNull();
    expect(m.mae).toBe(1.33333333333); // the other metrics do not depend on it
  });

  it('r2 can be negative (worse than the mean)', () => {
    expect(metricsOf(aggregate({ predictions: 3, labelled: 3, errorSqSum: 30, actualMean: 5, actualM2: 10 })).r2).toBe(-2);
  });

  it('rmse never goes NaN on a slightly negative rounding residue', () => {
    const m = metricsOf(aggregate({ predictions: 1, labelled: 1, errorSqSum: -1e-18 }));
    expect(m.rmse).toBe(0);
  });

  it('accuracy_rate and anomalies over the labelled predictions only', () => {
    const m = metricsOf(aggregate({ predictions: 10, confidenceSum: 5, labelled: 4, accurate: 3, anomalies: 1, errorAbsSum: 8, errorSqSum: 40, actualMean: 4, actualM2: 20 }));
    expect(m).toMatchObject({ predictions: 10, count: 4, accuracy_rate: 0.75, anomalies: 1, mae: 2, r2: -1, avg_confidence: 0.5 });
    expect(m.rmse).toBe(3.16227766017); // sqrt(10) to 12 significant digits
  });

  it('keeps 12 significant digits: no floating-point residue such as 0.6999999999999993', () => {
    const error = Math.abs(8.5 - 9.2);
    expect(error).not.toBe(0.7);
    const m = metricsOf(aggregate({ predictions: 1, confidenceSum: 0.82, labelled: 1, accurate: 1, errorAbsSum: error, errorSqSum: error * error, actualMean: 9.2, actualM2: 0 }));
    expect([m.mae, m.rmse, m.avg_confidence]).toEqual([0.7, 0.7, 0.82]);
  });

  it('the residue threshold is relative: 1e-12 · count · (1 + mean²) (below: null, above: a number)', () => {
    for (const [labelled, actualMean] of [[2, 0], [2, 500], [1000, 0], [1000, 500], [3, -40_000]] as const) {
      const threshold = 1e-12 * labelled * (1 + actualMean * actualMean);
      const at = (actualM2: number) => metricsOf(aggregate({ predictions: labelled, labelled, errorSqSum: 1e-15, actualMean, actualM2 })).r2;
      expect([labelled, actualMean, at(threshold / 2)]).toEqual([labelled, actualMean, null]);
      expect([labelled, actualMean, at(threshold * 2)]).toEqual([labelled, actualMean, expect.any(Number)]);
    }
  });

  it('r2 is null for one actual, whatever residue its M2 carries', () => {
    expect(metricsOf(aggregate({ predictions: 1, labelled: 1, errorSqSum: 1, actualMean: 5, actualM2: 1e-3 })).r2).toBeNull();
  });

  it('a corrected actual leaves no spread: three actuals of 500, one first entered as 623.456 (r2 null, not -5e11)', () => {
    const entered = mergeAll([leaf(500, 500), leaf(501, 500), leaf(502, 623.456)]);
    const corrected = merge(merge(entered, negate(leaf(502, 623.456))), leaf(502, 500));
    expect(corrected.labelled).toBe(3);
    expect(metricsOf(corrected).r2).toBeNull();
  });
});
