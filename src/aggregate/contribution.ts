import { EMPTY_AGGREGATE, merge, negate, type Aggregate } from './moments.js';
import { floorTo, microsOf, MINUTE_US } from './window.js';

/** How errors are judged; from configuration (MLMON_ACCURACY_TOLERANCE_MINUTES, ...). */
export interface ErrorRules {
  accuracyToleranceMinutes: number;
  anomalyThresholdMinutes: number;
}

/** The facts of one stored prediction that its rollup contribution depends on. */
export interface PredictionFacts {
  createdAtUs: number;
  modelVersion: string;
  predictedDelayMinutes: number;
  confidence: number;
  predictionTimeMs: number | null;
  actualDelayMinutes: number | null;
}

/** The columns of ml_prediction those facts are read from. */
export interface PredictionFactsRow {
  created_at: Date;
  model_version: string;
  predicted_delay_minutes: number;
  confidence: number;
  prediction_time_ms: number | null;
  actual_delay_minutes: number | null;
}

export function factsOf(row: PredictionFactsRow): PredictionFacts {
  return {
    createdAtUs: microsOf(row.created_at),
    modelVersion: row.model_version,
    predictedDelayMinutes: row.predicted_delay_minutes,
    confidence: row.confidence,
    predictionTimeMs: row.prediction_time_ms,
    actualDelayMinutes: row.actual_delay_minutes,
  };
}

export interface Label {
  prediction_error: number;
  is_accurate: boolean;
}

/** The seed's rule: error = |predicted - actual|, accurate when the error is under tolerance. */
export function labelOf(predicted: number, actual: number, rules: ErrorRules): Label {
  const error = Math.abs(predicted - actual);
  return { prediction_error: error, is_accurate: error < rules.accuracyToleranceMinutes };
}

export function contributionOf(p: PredictionFacts, rules: ErrorRules): Aggregate {
  const base: Aggregate = {
    ...EMPTY_AGGREGATE,
    predictions: 1,
    confidenceSum: p.confidence,
    latencyCount: p.predictionTimeMs === null ? 0 : 1,
    latencySumMs: p.predictionTimeMs ?? 0,
  };
  if (p.actualDelayMinutes === null) return base;
  const { prediction_error: error, is_accurate } = labelOf(p.predictedDelayMinutes, p.actualDelayMinutes, rules);
  return {
    ...base,
    labelled: 1,
    accurate: is_accurate ? 1 : 0,
    anomalies: error > rules.anomalyThresholdMinutes ? 1 : 0,
    errorAbsSum: error,
    errorSqSum: error * error,
    actualMean: p.actualDelayMinutes,
    actualM2: 0,
    errorSum: p.predictedDelayMinutes - p.actualDelayMinutes,
  };
}

/** What labelling adds to a prediction's contribution: its counts, sums and moments less the unlabelled ones. */
function labelPartOf(p: PredictionFacts, rules: ErrorRules): Aggregate {
  return { ...contributionOf(p, rules), predictions: 0, confidenceSum: 0, latencyCount: 0, latencySumMs: 0 };
}

export interface BucketDelta {
  bucketUs: number;
  modelVersion: string;
  delta: Aggregate;
}

/** A rollup row's key: its bucket and version. */
export const bucketKey = (bucketUs: number, modelVersion: string) => `${bucketUs}\u0000${modelVersion}`;

/** Adds a delta to the one of its bucket in `deltas`. */
function mergeInto(deltas: Map<string, BucketDelta>, next: BucketDelta): void {
  const key = bucketKey(next.bucketUs, next.modelVersion);
  const existing = deltas.get(key);
  deltas.set(key, existing ? { ...next, delta: merge(existing.delta, next.delta) } : next);
}

/**
 * Sums contributions per (minute bucket, model version). Additions and removals are kept apart:
 * a correction's removal and addition cancel in the counts, and a merged delta with a labelled
 * count of 0 could not carry the shift of the mean and M2. Applying all additions, then all
 * removals, is exact.
 */
export class RollupDeltas {
  private readonly added = new Map<string, BucketDelta>();
  private readonly removed = new Map<string, BucketDelta>();

  private static collect(into: Map<string, BucketDelta>, p: PredictionFacts, contribution: Aggregate): void {
    mergeInto(into, { bucketUs: floorTo(p.createdAtUs, MINUTE_US), modelVersion: p.modelVersion, delta: contribution });
  }

  /**
   * A new prediction: its whole contribution. The service's writes add it in SQL (rollup.ts
   * rollupAdditionsSql), which test/integration/metrics-reference.test.ts checks against an
   * independent computation; this model of it gives the unit tests of relabelling their buckets.
   */
  addPrediction(p: PredictionFacts, rules: ErrorRules): void {
    RollupDeltas.collect(this.added, p, contributionOf(p, rules));
  }

  /**
   * An actual set or replaced: the new contribution replaces the old one, never adds to it. A
   * first actual only adds the label's part (an unlabelled contribution has no moments to take
   * out), so the rollups take one pass instead of an addition and a removal.
   */
  addRelabel(p: PredictionFacts, newActual: number, rules: ErrorRules): void {
    const labelled = { ...p, actualDelayMinutes: newActual };
    if (p.actualDelayMinutes === null) {
      RollupDeltas.collect(this.added, labelled, labelPartOf(labelled, rules));
      return;
    }
    RollupDeltas.collect(this.added, labelled, contributionOf(labelled, rules));
    RollupDeltas.collect(this.removed, p, contributionOf(p, rules));
  }

  /** The minute buckets (and versions) of which a correction took an earlier label out. */
  correctedMinutes(): { bucketUs: number; modelVersion: string }[] {
    return [...this.removed.values()].map(({ bucketUs, modelVersion }) => ({ bucketUs, modelVersion }));
  }

  /**
   * The deltas in the order they must be applied, per bucket of `stepUs` (a rollup tier):
   * additions, then negated removals, each part sorted (the upsert itself locks rows in
   * rollup.ts's LOCK_ORDER, the same for every writer).
   */
  sorted(stepUs: number): BucketDelta[] {
    const byBucket = (a: BucketDelta, b: BucketDelta) =>
      a.bucketUs - b.bucketUs || (a.modelVersion < b.modelVersion ? -1 : a.modelVersion > b.modelVersion ? 1 : 0);
    const regroup = (deltas: Map<string, BucketDelta>) => {
      const grouped = new Map<string, BucketDelta>();
      for (const { bucketUs, modelVersion, delta } of deltas.values()) mergeInto(grouped, { bucketUs: floorTo(bucketUs, stepUs), modelVersion, delta });
      return [...grouped.values()].sort(byBucket);
    };
    const removals = regroup(this.removed).map((d) => ({ ...d, delta: negate(d.delta) }));
    return [...regroup(this.added), ...removals];
  }
}
