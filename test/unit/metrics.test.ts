import { EMPTY_AGGREGATE, type Aggregate } from '../../src/aggregate/moments.js';
import { metricsOf } from '../../src/aggregate/metrics.js';

const aggregate = (over: Partial<Aggregate>): Aggregate => ({ ...EMPTY_AGGREGATE, ...over });

describe('metricsOf (src/aggregate/metrics.ts)', () => {
  it('an empty window: counts 0, every average null', () => {
    expect(metricsOf(EMPTY_AGGREGATE)).toEqual({
      predictions: 0,
      count: 0,
      mae: null,
      rmse: null,
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

  it('r2 can be negative (worse than the mean)', () => {
    expect(metricsOf(aggregate({ predictions: 3, labelled: 3, errorSqSum: 30, actualMean: 5, actualM2: 10 })).r2).toBe(-2);
  });

  it('rmse never goes NaN on a slightly negative rounding residue', () => {
    const m = metricsOf(aggregate({ predictions: 1, labelled: 1, errorSqSum: -1e-18 }));
    expect(m.rmse).toBe(0);
  });

  it('accuracy_rate and anomalies over the labelled predictions only', () => {
    const m = metricsOf(aggregate({ predictions: 10, confidenceSum: 5, labelled: 4, accurate: 3, anomalies: 1, errorAbsSum: 8, errorSqSum: 40, actualMean: 4, actualM2: 20 }));
    expect(m).toMatchObject({ predictions: 10, count: 4, accuracy_rate: 0.75, anomalies: 1, mae: 2, rmse: Math.sqrt(10), r2: -1, avg_confidence: 0.5 });
  });
});
