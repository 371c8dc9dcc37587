import type { TransactionSql } from 'postgres';
import { DAY_US, HOUR_US, isoMicros, MINUTE_US } from '../aggregate/window.js';
import type { BucketDelta, RollupDeltas } from './contribution.js';

/**
 * The rollup tiers, finest first (the order writers lock them in). Each step is a multiple of the
 * finer ones and buckets are aligned to the epoch (UTC), so a window is read coarsest first.
 */
export const ROLLUP_TIERS = [
  { table: 'ml_rollup_minute', stepUs: MINUTE_US },
  { table: 'ml_rollup_10min', stepUs: 10 * MINUTE_US },
  { table: 'ml_rollup_hour', stepUs: HOUR_US },
  { table: 'ml_rollup_day', stepUs: DAY_US },
] as const;
type RollupTier = (typeof ROLLUP_TIERS)[number];

const COLUMNS = `bucket, model_version, predictions, confidence_sum, latency_count, latency_sum_ms, labelled,
  accurate, anomalies, error_abs_sum, error_sq_sum, actual_mean, actual_m2`;

/** The moments merge is the Chan merge of aggregate/moments.ts (signed counts remove). */
const MERGE_ON_CONFLICT = `
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

/**
 * For the statement that inserts predictions, as SQL text (built once: see predictions.ts): CTEs
 * adding the rows of `inserted` (a CTE returning ml_prediction's columns) to every tier,
 * aggregated in SQL, so no row travels back to the service. Delta rows are sorted by bucket and
 * version, and each tier waits for the finer one, so the statement locks rollup rows in the same
 * order as every other writer. The labels follow the tolerance and anomaly threshold given as
 * parameter references, as contributionOf does in contribution.ts.
 */
export function rollupAdditionsSql(inserted: string, { tolerance, anomaly }: { tolerance: string; anomaly: string }): string {
  return ROLLUP_TIERS.map((tier, i) => {
    const afterFinerTier = i === 0 ? '' : `where (select count(*) from ${ROLLUP_TIERS[i - 1]!.table}_added) >= 0`;
    return `${tier.table}_added as (
      insert into ${tier.table} as r (${COLUMNS})
      select date_bin('${tier.stepUs / 1_000_000} seconds', created_at, timestamptz '1970-01-01 00:00:00+00'), model_version,
             count(*), sum(confidence), count(prediction_time_ms), coalesce(sum(prediction_time_ms), 0), count(actual_delay_minutes),
             count(*) filter (where prediction_error < ${tolerance}), count(*) filter (where prediction_error > ${anomaly}),
             coalesce(sum(prediction_error), 0), coalesce(sum(prediction_error * prediction_error), 0),
             coalesce(avg(actual_delay_minutes), 0), coalesce(var_pop(actual_delay_minutes) * count(actual_delay_minutes), 0)
      from ${inserted} ${afterFinerTier}
      group by 1, 2 order by 1, 2
      ${MERGE_ON_CONFLICT}
      returning 1)`;
  }).join(',\n');
}

/** Applies a write's deltas (computed in the service) to every rollup tier inside its transaction. */
export async function applyRollupDeltas(tx: TransactionSql, deltas: RollupDeltas): Promise<void> {
  for (const tier of ROLLUP_TIERS) await applyToTier(tx, tier, deltas.sorted(tier.stepUs));
}

/**
 * Applies deltas, in order, to one tier. One upsert cannot touch a row twice, so a bucket that
 * comes again (a correction's removal after its addition) starts the next pass.
 */
async function applyToTier(tx: TransactionSql, tier: RollupTier, deltas: BucketDelta[]): Promise<void> {
  let pass: BucketDelta[] = [];
  const keys = new Set<string>();
  for (const delta of deltas) {
    const key = `${delta.bucketUs}\u0000${delta.modelVersion}`;
    if (keys.has(key)) {
      await upsert(tx, tier, pass);
      pass = [];
      keys.clear();
    }
    keys.add(key);
    pass.push(delta);
  }
  if (pass.length > 0) await upsert(tx, tier, pass);
}

async function upsert(tx: TransactionSql, tier: RollupTier, deltas: BucketDelta[]): Promise<void> {
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
    insert into ${tx(tier.table)} as r (${tx.unsafe(COLUMNS)})
    select * from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as d(
      bucket timestamptz, model_version text, predictions bigint, confidence_sum float8,
      latency_count bigint, latency_sum_ms float8, labelled bigint, accurate bigint, anomalies bigint,
      error_abs_sum float8, error_sq_sum float8, actual_mean float8, actual_m2 float8)
    ${tx.unsafe(MERGE_ON_CONFLICT)}`;
}
