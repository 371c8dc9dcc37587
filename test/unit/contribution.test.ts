import fc from 'fast-check';
import { EMPTY_AGGREGATE, merge, mergeAll, type Aggregate } from '../../src/aggregate/moments.js';
import { metricsOf } from '../../src/aggregate/metrics.js';
import { contributionOf, labelOf, RollupDeltas, type BucketDelta, type PredictionFacts } from '../../src/aggregate/contribution.js';
import { closeTo, exactSum } from '../support/reference.js';

const rules = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };
const MINUTE = 60_000_000;
const T0 = Date.UTC(2024, 2, 1, 12, 0, 0) * 1000;

const fact = (over: Partial<PredictionFacts>): PredictionFacts => ({
  createdAtUs: T0 + 1_000_000,
  modelVersion: 'v1',
  predictedDelayMinutes: 10,
  confidence: 0.8,
  predictionTimeMs: 120,
  actualDelayMinutes: null,
  ...over,
});

/** A rollup row as the SQL upsert leaves it: the Chan merge of every delta applied to it. */
function applyTo(buckets: Map<string, Aggregate>, deltas: BucketDelta[]): void {
  for (const { bucketUs, modelVersion, delta } of deltas) {
    const key = `${bucketUs}|${modelVersion}`;
    buckets.set(key, merge(buckets.get(key) ?? EMPTY_AGGREGATE, delta));
  }
}

/** The bucket computed from scratch, the slow way, from the current facts. */
function fromScratch(facts: PredictionFacts[]) {
  const labelled = facts.filter((f) => f.actualDelayMinutes !== null);
  const actuals = labelled.map((f) => f.actualDelayMinutes!);
  const errors = labelled.map((f) => Math.abs(f.predictedDelayMinutes - f.actualDelayMinutes!));
  const mean = actuals.length ? exactSum(actuals) / actuals.length : 0;
  return {
    predictions: facts.length,
    labelled: labelled.length,
    accurate: errors.filter((e) => e < 3).length,
    anomalies: errors.filter((e) => e > 5).length,
    errorAbsSum: exactSum(errors),
    errorSqSum: exactSum(errors.map((e) => e * e)),
    actualMean: mean,
    actualM2: exactSum(actuals.map((a) => (a - mean) ** 2)),
  };
}

describe('labelOf', () => {
  it('the seed example: predicted 8.5, actual 9.2 -> error 0.7, accurate', () => {
    const label = labelOf(8.5, 9.2, rules);
    expect(label.prediction_error).toBeCloseTo(0.7, 12);
    expect(label.is_accurate).toBe(true);
  });

  it('accuracy is strict: an error of exactly the tolerance is not accurate', () => {
    expect(labelOf(10, 13, rules)).toEqual({ prediction_error: 3, is_accurate: false });
    expect(labelOf(13, 10, rules)).toEqual({ prediction_error: 3, is_accurate: false });
    expect(labelOf(10, 12.999, rules).is_accurate).toBe(true);
  });
});

describe('contributionOf', () => {
  it('unlabelled: counts the prediction, confidence and latency only', () => {
    expect(contributionOf(fact({ predictionTimeMs: null }), rules)).toEqual({
      ...EMPTY_AGGREGATE,
      predictions: 1,
      confidenceSum: 0.8,
    });
  });

  it('anomaly is strict: error exactly the threshold is not an anomaly', () => {
    expect(contributionOf(fact({ predictedDelayMinutes: 2.5, actualDelayMinutes: 7.5 }), rules).anomalies).toBe(0);
    expect(contributionOf(fact({ predictedDelayMinutes: 2.5, actualDelayMinutes: 7.6 }), rules).anomalies).toBe(1);
  });
});

describe('RollupDeltas (src/aggregate/contribution.ts)', () => {
  it('sums contributions per (minute bucket, model version), sorted by bucket then version', () => {
    const deltas = new RollupDeltas();
    deltas.addPrediction(fact({ createdAtUs: T0 + MINUTE + 5, modelVersion: 'b' }), rules);
    deltas.addPrediction(fact({ createdAtUs: T0 + 59_999_999, modelVersion: 'b' }), rules);
    deltas.addPrediction(fact({ createdAtUs: T0, modelVersion: 'b' }), rules);
    deltas.addPrediction(fact({ createdAtUs: T0 + 1, modelVersion: 'a' }), rules);
    const sorted = deltas.sorted(MINUTE);
    expect(sorted.map((d) => [d.bucketUs, d.modelVersion, d.delta.predictions])).toEqual([
      [T0, 'a', 1],
      [T0, 'b', 2],
      [T0 + MINUTE, 'b', 1],
    ]);
  });

  it('buckets times before the epoch by floor, not truncation', () => {
    const deltas = new RollupDeltas();
    deltas.addPrediction(fact({ createdAtUs: -1 }), rules);
    expect(deltas.sorted(MINUTE)[0]!.bucketUs).toBe(-MINUTE);
  });

  it('a first actual labels a prediction once', () => {
    const p = fact({});
    const buckets = new Map<string, Aggregate>();
    const insert = new RollupDeltas();
    insert.addPrediction(p, rules);
    applyTo(buckets, insert.sorted(MINUTE));
    const label = new RollupDeltas();
    label.addRelabel(p, 14, rules);
    // one delta per bucket (no removal to apply after it), and it leaves the counts of predictions alone
    expect(label.sorted(MINUTE)).toEqual([expect.objectContaining({ delta: expect.objectContaining({ predictions: 0, confidenceSum: 0, labelled: 1 }) })]);
    applyTo(buckets, label.sorted(MINUTE));
    const bucket = [...buckets.values()][0]!;
    expect(bucket).toMatchObject({ predictions: 1, confidenceSum: p.confidence, labelled: 1, accurate: 0, errorAbsSum: 4, errorSqSum: 16, actualMean: 14, actualM2: 0 });
  });

  it('corrections replace the old contribution in the error sums and counts, never add to it', () => {
    const a = fact({ predictedDelayMinutes: 10, actualDelayMinutes: 11 }); // error 1: accurate
    const b = fact({ predictedDelayMinutes: 4, actualDelayMinutes: 20, createdAtUs: T0 + 2 }); // error 16: anomaly
    const buckets = new Map<string, Aggregate>();
    const insert = new RollupDeltas();
    insert.addPrediction(a, rules);
    insert.addPrediction(b, rules);
    applyTo(buckets, insert.sorted(MINUTE));
    // correct a twice: 11 -> 17 (error 7, anomaly) -> 12 (error 2, accurate)
    const c1 = new RollupDeltas();
    c1.addRelabel(a, 17, rules);
    applyTo(buckets, c1.sorted(MINUTE));
    const c2 = new RollupDeltas();
    c2.addRelabel({ ...a, actualDelayMinutes: 17 }, 12, rules);
    applyTo(buckets, c2.sorted(MINUTE));
    const bucket = [...buckets.values()][0]!;
    const expected = fromScratch([{ ...a, actualDelayMinutes: 12 }, b]);
    expect(bucket.predictions).toBe(2);
    expect(bucket.labelled).toBe(expected.labelled);
    expect(bucket.accurate).toBe(expected.accurate);
    expect(bucket.anomalies).toBe(expected.anomalies);
    expect(bucket.errorAbsSum).toBeCloseTo(expected.errorAbsSum, 9);
    expect(bucket.errorSqSum).toBeCloseTo(expected.errorSqSum, 9);
  });

  // The actuals' moments (mean, M2) feed R². A relabel delta is merge(after, negate(before)):
  // its labelled count is 1 + (-1) = 0, and merge() then zeroes the mean and M2, so the change
  // of the actual is lost: the bucket keeps the OLD actual's mean and M2 for ever.
  it('corrections replace the old actual in the bucket moments (mean, M2) used by R²', () => {
    const a = fact({ predictedDelayMinutes: 10, actualDelayMinutes: 10 });
    const b = fact({ predictedDelayMinutes: 20, actualDelayMinutes: 20, createdAtUs: T0 + 2 });
    const buckets = new Map<string, Aggregate>();
    const insert = new RollupDeltas();
    insert.addPrediction(a, rules);
    insert.addPrediction(b, rules);
    applyTo(buckets, insert.sorted(MINUTE));
    const correction = new RollupDeltas();
    correction.addRelabel(a, 40, rules); // a's actual 10 -> 40
    applyTo(buckets, correction.sorted(MINUTE));
    const bucket = [...buckets.values()][0]!;
    const expected = fromScratch([{ ...a, actualDelayMinutes: 40 }, b]); // actuals 40, 20: mean 30, M2 200
    expect({ mean: bucket.actualMean, m2: bucket.actualM2 }).toEqual({ mean: expect.closeTo(expected.actualMean, 9), m2: expect.closeTo(expected.actualM2, 9) });
    // and therefore R² = 1 - SSres/SStot = 1 - 900/200
    expect(metricsOf(bucket).r2).toBeCloseTo(1 - 900 / 200, 9);
  });

  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), predicted: fc.double({ min: 0, max: 30, noNaN: true }), second: fc.integer({ min: 0, max: 119 }) }),
    fc.record({ kind: fc.constant('label' as const), index: fc.nat(), actual: fc.double({ min: 0, max: 30, noNaN: true }) }),
  );
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

  /** Replays inserts and (re)labels through RollupDeltas; returns each bucket next to its from-scratch value. */
  function replay(ops: Op[]) {
    const facts: PredictionFacts[] = [];
    const buckets = new Map<string, Aggregate>();
    for (const o of ops) {
      const deltas = new RollupDeltas();
      if (o.kind === 'insert') {
        const f = fact({ predictedDelayMinutes: o.predicted, createdAtUs: T0 + o.second * 1_000_000 });
        facts.push(f);
        deltas.addPrediction(f, rules);
      } else if (facts.length > 0) {
        const i = o.index % facts.length;
        deltas.addRelabel(facts[i]!, o.actual, rules);
        facts[i] = { ...facts[i]!, actualDelayMinutes: o.actual };
      }
      applyTo(buckets, deltas.sorted(MINUTE));
    }
    expect(mergeAll(buckets.values()).predictions).toBe(facts.length);
    return [T0, T0 + MINUTE].map((bucketStart) => ({
      got: buckets.get(`${bucketStart}|v1`) ?? EMPTY_AGGREGATE,
      want: fromScratch(facts.filter((f) => f.createdAtUs >= bucketStart && f.createdAtUs < bucketStart + MINUTE)),
    }));
  }

  it('random inserts, labels and corrections: counts and error sums equal the bucket from scratch (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        runs++;
        for (const { got, want } of replay(ops)) {
          expect(got.predictions).toBe(want.predictions);
          expect(got.labelled).toBe(want.labelled);
          expect(got.accurate).toBe(want.accurate);
          expect(got.anomalies).toBe(want.anomalies);
          expect(closeTo(got.errorAbsSum, want.errorAbsSum, 1e-9)).toBe(true);
          expect(closeTo(got.errorSqSum, want.errorSqSum, 1e-9)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
    console.log(`RollupDeltas counts/error-sums property: ${runs} cases`);
  });

  it('random inserts, labels and corrections: actual mean and M2 equal the bucket from scratch (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        runs++;
        for (const { got, want } of replay(ops)) {
          if (want.labelled === 0) continue;
          expect({ mean: got.actualMean, m2: got.actualM2 }).toEqual({
            mean: expect.closeTo(want.actualMean, 6),
            m2: expect.closeTo(want.actualM2, 6),
          });
        }
      }),
      { numRuns: 200 },
    );
    console.log(`RollupDeltas moments property: ${runs} cases`);
  });
});
