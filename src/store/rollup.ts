import type { TransactionSql } from 'postgres';
import { HOUR_US, isoMicros, MINUTE_US } from '../aggregate/window.js';
import type { BucketDelta, RollupDeltas } from './contribution.js';

/** The rollup tiers, finest first (the order writers lock them in). */
export const ROLLUP_TIERS = [
  { table: 'ml_rollup_minute', stepUs: MINUTE_US },
  { table: 'ml_rollup_hour', stepUs: HOUR_US },
] as const;
type RollupTable = (typeof ROLLUP_TIERS)[number]['table'];

/** Applies a write's deltas to every rollup tier inside the writer's transaction. */
export async function applyRollupDeltas(tx: TransactionSql, deltas: RollupDeltas): Promise<void> {
  for (const { table, stepUs } of ROLLUP_TIERS) await applyToTier(tx, table, deltas.sorted(stepUs));
}

/**
 * Applies deltas, in order, to one tier. One upsert cannot touch a row twice, so a bucket that
 * comes again (a correction's removal after its addition) starts the next pass.
 */
async function applyToTier(tx: TransactionSql, table: RollupTable, deltas: BucketDelta[]): Promise<void> {
  let pass: BucketDelta[] = [];
  const keys = new Set<string>();
  for (const delta of deltas) {
    const key = `${delta.bucketUs}\u0000${delta.modelVersion}`;
    if (keys.has(key)) {
      await upsert(tx, table, pass);
      pass = [];
      keys.clear();
    }
    keys.add(key);
    pass.push(delta);
  }
  if (pass.length > 0) await upsert(tx, table, pass);
}

/** The moments merge in SQL is the Chan merge of aggregate/moments.ts (signed counts remove). */
async function upsert(tx: TransactionSql, table: RollupTable, deltas: BucketDelta[]): Promise<void> {
  const rows = deltas.map(({ bucketUs, modelVersion, delta: d }) => ({
    bucket: isoMicros(bucketUs),
    model_version: modelVersion,
    predictions: d.predictions,
    confidence_sum: d.confidenceSum,
    latency_count: d.latencyCount,
    latency_sum_ms: d.latencySumMs,
    labelled: d.labelled,
    accurate: d.accurate,
    anomalies: d.anomalies,
    error_abs_sum: d.errorAbsSum,
    error_sq_sum: d.errorSqSum,
    actual_mean: d.actualMean,
    actual_m2: d.actualM2,
  }));
  await tx`
    insert into ${tx(table)} as r (
      bucket, model_version, predictions, confidence_sum, latency_count, latency_sum_ms, labelled,
      accurate, anomalies, error_abs_sum, error_sq_sum, actual_mean, actual_m2)
    select * from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as d(
      bucket timestamptz, model_version text, predictions bigint, confidence_sum float8,
      latency_count bigint, latency_sum_ms float8, labelled bigint, accurate bigint, anomalies bigint,
      error_abs_sum float8, error_sq_sum float8, actual_mean float8, actual_m2 float8)
    on conflict (bucket, model_version) do update set
      predictions    = r.predictions + excluded.predictions,
      confidence_sum = r.confidence_sum + excluded.confidence_sum,
      latency_count  = r.latency_count + excluded.latency_count,
      latency_sum_ms = r.latency_sum_ms + excluded.latency_sum_ms,
      labelled       = r.labelled + excluded.labelled,
      accurate       = r.accurate + excluded.accurate,
      anomalies      = r.anomalies + excluded.anomalies,
      error_abs_sum  = r.error_abs_sum + excluded.error_abs_sum,
      error_sq_sum   = r.error_sq_sum + excluded.error_sq_sum,
      actual_mean    = case when r.labelled + excluded.labelled = 0 then 0
                       else r.actual_mean + (excluded.actual_mean - r.actual_mean)
                            * excluded.labelled::float8 / (r.labelled + excluded.labelled) end,
      actual_m2      = case when r.labelled + excluded.labelled = 0 then 0
                       else r.actual_m2 + excluded.actual_m2 + (excluded.actual_mean - r.actual_mean) ^ 2
                            * r.labelled::float8 * excluded.labelled / (r.labelled + excluded.labelled) end`;
}
