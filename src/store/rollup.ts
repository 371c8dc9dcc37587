import type { TransactionSql } from 'postgres';
import { DAY_US, floorTo, HOUR_US, isoMicros, MINUTE_US } from '../aggregate/window.js';
import { arrayLiteral } from './array-literal.js';
import { bucketKey, type BucketDelta, type RollupDeltas } from '../aggregate/contribution.js';

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
  accurate, anomalies, error_abs_sum, error_sq_sum, actual_mean, actual_m2, error_sum`;

/**
 * The moments merge is the Chan merge of aggregate/moments.ts (signed counts remove). An unknown
 * (null) error_sum stays unknown: migration 00011.
 */
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
    error_sum      = r.error_sum + excluded.error_sum,
    actual_mean    = case when r.labelled + excluded.labelled = 0 then 0
                     else r.actual_mean + (excluded.actual_mean - r.actual_mean)
                          * excluded.labelled::float8 / (r.labelled + excluded.labelled) end,
    actual_m2      = case when r.labelled + excluded.labelled = 0 then 0
                     else r.actual_m2 + excluded.actual_m2 + (excluded.actual_mean - r.actual_mean) ^ 2
                          * r.labelled::float8 * excluded.labelled / (r.labelled + excluded.labelled) end`;

/**
 * The order every writer locks a tier's rows in: by bucket, then by version byte-wise. Both write
 * paths sort in SQL with it; the database collation (e.g. en_US, where 'canary' < 'Prod') and
 * JavaScript's UTF-16 order (where 'Prod' < 'canary', and '😀' < 'ＡＢＣ') disagree, and writers
 * locking two versions' rows in opposite orders deadlock.
 */
const LOCK_ORDER = `bucket, model_version collate "C"`;

const EPOCH = `timestamptz '1970-01-01 00:00:00+00'`;
const bucketOf = (column: string, tier: RollupTier) => `date_bin('${tier.stepUs / 1_000_000} seconds', ${column}, ${EPOCH})`;
const [MINUTE_TIER, ...COARSER_TIERS] = ROLLUP_TIERS;

/**
 * For the statement that inserts predictions, as SQL text (built once: see predictions.ts): CTEs
 * adding the rows of `inserted` (a CTE returning the inserted rows' columns that the rollups sum:
 * see its `returning` list in predictions.ts) to every tier, aggregated in SQL, so no row travels
 * back to the service. The rows are aggregated once, per minute and version; each coarser tier
 * sums those minute deltas (their moments merged by mlmon_merge_moments, migration 00008), a few
 * rows instead of every inserted one. Delta rows are sorted by bucket and version, and each tier
 * waits for the finer one, so the statement locks rollup rows in the same order as every other
 * writer. The labels follow the tolerance and anomaly threshold given as parameter references, as
 * contributionOf does in aggregate/contribution.ts.
 */
export function rollupAdditionsSql(inserted: string, { tolerance, anomaly }: { tolerance: string; anomaly: string }): string {
  const minuteDeltas = `${MINUTE_TIER.table}_delta as materialized (
      select ${bucketOf('created_at', MINUTE_TIER)} as bucket, model_version,
             count(*) as predictions, sum(confidence) as confidence_sum, count(prediction_time_ms) as latency_count,
             coalesce(sum(prediction_time_ms), 0) as latency_sum_ms, count(actual_delay_minutes) as labelled,
             count(*) filter (where prediction_error < ${tolerance}) as accurate, count(*) filter (where prediction_error > ${anomaly}) as anomalies,
             coalesce(sum(prediction_error), 0) as error_abs_sum, coalesce(sum(prediction_error * prediction_error), 0) as error_sq_sum,
             coalesce(avg(actual_delay_minutes), 0) as actual_mean,
             coalesce(var_pop(actual_delay_minutes) * count(actual_delay_minutes), 0) as actual_m2,
             coalesce(sum(predicted_delay_minutes - actual_delay_minutes), 0) as error_sum
      from ${inserted}
      group by 1, 2)`;
  const minuteAdded = `${MINUTE_TIER.table}_added as (
      insert into ${MINUTE_TIER.table} as r (${COLUMNS})
      select * from ${MINUTE_TIER.table}_delta order by ${LOCK_ORDER}
      ${MERGE_ON_CONFLICT}
      returning 1)`;
  // COARSER_TIERS[i] follows ROLLUP_TIERS[i]: it waits until that finer tier has added its rows.
  const coarserAdded = COARSER_TIERS.map((tier, i) => `${tier.table}_added as (
      insert into ${tier.table} as r (${COLUMNS})
      select bucket, model_version, predictions, confidence_sum, latency_count, latency_sum_ms, labelled, accurate, anomalies,
             error_abs_sum, error_sq_sum, coalesce(moments[2] / nullif(moments[1], 0), 0), moments[3], error_sum
      from (
        select ${bucketOf('bucket', tier)} as bucket, model_version,
               sum(predictions)::bigint as predictions, sum(confidence_sum) as confidence_sum,
               sum(latency_count)::bigint as latency_count, sum(latency_sum_ms) as latency_sum_ms,
               sum(labelled)::bigint as labelled, sum(accurate)::bigint as accurate, sum(anomalies)::bigint as anomalies,
               sum(error_abs_sum) as error_abs_sum, sum(error_sq_sum) as error_sq_sum,
               mlmon_merge_moments(array[labelled, labelled * actual_mean, actual_m2]::float8[]) as moments,
               sum(error_sum) as error_sum
        from ${MINUTE_TIER.table}_delta
        where (select count(*) from ${ROLLUP_TIERS[i]!.table}_added) >= 0
        group by 1, 2) d
      order by ${LOCK_ORDER}
      ${MERGE_ON_CONFLICT}
      returning 1)`);
  return [minuteDeltas, minuteAdded, ...coarserAdded].join(',\n');
}

/** A tier's delta rows as jsonb_to_recordset reads them. */
const DELTA_RECORD = `d(bucket timestamptz, model_version text, predictions bigint, confidence_sum float8,
  latency_count bigint, latency_sum_ms float8, labelled bigint, accurate bigint, anomalies bigint,
  error_abs_sum float8, error_sq_sum float8, actual_mean float8, actual_m2 float8, error_sum float8)`;

/**
 * One pass of deltas over every tier in one statement (built once): parameter $k is the JSON of
 * ROLLUP_TIERS[k - 1]'s rows. Each tier's upsert waits for the finer tier's, so rows are locked in
 * the same order as every other writer.
 */
const UPSERT_PASS = `with ${ROLLUP_TIERS.map((tier, i) => `${tier.table}_upserted as (
    insert into ${tier.table} as r (${COLUMNS})
    select * from jsonb_to_recordset($${i + 1}::text::jsonb) as ${DELTA_RECORD}
    ${i === 0 ? '' : `where (select count(*) from ${ROLLUP_TIERS[i - 1]!.table}_upserted) >= 0`}
    order by ${LOCK_ORDER}
    ${MERGE_ON_CONFLICT}
    returning 1)`).join(',\n  ')}
  select count(*) from ${ROLLUP_TIERS[ROLLUP_TIERS.length - 1]!.table}_upserted`;

/**
 * Splits one tier's deltas, in order, into passes: one upsert cannot touch a row twice, so a
 * bucket that comes again (a correction's removal after its addition) starts the next pass.
 */
function passesOf(deltas: BucketDelta[]): BucketDelta[][] {
  const passes: BucketDelta[][] = [];
  let keys = new Set<string>();
  for (const delta of deltas) {
    const key = bucketKey(delta.bucketUs, delta.modelVersion);
    if (passes.length === 0 || keys.has(key)) {
      passes.push([]);
      keys = new Set();
    }
    keys.add(key);
    passes[passes.length - 1]!.push(delta);
  }
  return passes;
}

const recordsOf = (deltas: BucketDelta[] = []) =>
  JSON.stringify(
    deltas.map(({ bucketUs, modelVersion, delta: d }) => ({
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
      error_sum: d.errorSum,
    })),
  );

/**
 * Applies a write's deltas (computed in the service) to every rollup tier inside its transaction:
 * a statement per pass, one for first labels, two for corrections. A correction's second pass
 * only touches rows its first pass already locked (the same prediction's buckets).
 */
export async function applyRollupDeltas(tx: TransactionSql, deltas: RollupDeltas): Promise<void> {
  const passesByTier = ROLLUP_TIERS.map((tier) => passesOf(deltas.sorted(tier.stepUs)));
  const count = Math.max(...passesByTier.map((passes) => passes.length));
  for (let k = 0; k < count; k++) {
    await tx.unsafe(UPSERT_PASS, passesByTier.map((passes) => recordsOf(passes[k])), { prepare: true });
  }
}

// Two arrays, not a JSON record set: unnest of an array is estimated at its length (the planner
// takes jsonb_to_recordset for 100 rows, and then preferred to scan the target tier whole).
const RECOMPUTE_KEYS = `select * from unnest($1::text[]::timestamptz[], $2::text[]) as k(bucket, model_version)`;
// Each key's rows are read through a lateral subquery: a join of the keys (estimated at 100 rows)
// with the table planned as a hash join on model_version, which scanned the whole of ml_prediction
// (every partition) and of each finer tier per correction, with the corrected buckets locked.
// An aggregate of no rows leaves the bucket as it is (having count(*) > 0), as the join did.
// The signed sum stays unknown unless every labelled row the bucket counts is still there to sum
// (migration 00011).
const RECOMPUTE_MINUTES = `
  update ${MINUTE_TIER.table} r set accurate = s.accurate, error_abs_sum = s.error_abs_sum, error_sq_sum = s.error_sq_sum,
         actual_mean = s.actual_mean, actual_m2 = s.actual_m2, error_sum = case when s.labelled = r.labelled then s.error_sum end
  from (${RECOMPUTE_KEYS}) k
  cross join lateral (
    select count(*) filter (where p.is_accurate) as accurate, coalesce(sum(p.prediction_error), 0) as error_abs_sum,
           coalesce(sum(p.prediction_error * p.prediction_error), 0) as error_sq_sum, coalesce(avg(p.actual_delay_minutes), 0) as actual_mean,
           coalesce(var_pop(p.actual_delay_minutes) * count(p.actual_delay_minutes), 0) as actual_m2,
           coalesce(sum(p.predicted_delay_minutes - p.actual_delay_minutes), 0) as error_sum, count(p.actual_delay_minutes) as labelled
    from ml_prediction p
    where p.model_version = k.model_version and p.created_at >= k.bucket and p.created_at < k.bucket + interval '1 minute'
    having count(*) > 0) s
  where r.bucket = k.bucket and r.model_version = k.model_version`;
const RECOMPUTE_COARSER = COARSER_TIERS.map((tier, i) => {
  const finer = ROLLUP_TIERS[i]!;
  return `
  update ${tier.table} r set accurate = s.accurate, error_abs_sum = s.error_abs_sum, error_sq_sum = s.error_sq_sum,
         actual_mean = coalesce(s.moments[2] / nullif(s.moments[1], 0), 0), actual_m2 = s.moments[3], error_sum = s.error_sum
  from (${RECOMPUTE_KEYS}) k
  cross join lateral (
    select sum(f.accurate) as accurate, sum(f.error_abs_sum) as error_abs_sum, sum(f.error_sq_sum) as error_sq_sum,
           mlmon_merge_moments(array[f.labelled, f.labelled * f.actual_mean, f.actual_m2]::float8[]) as moments,
           case when bool_and(f.error_sum is not null) then sum(f.error_sum) end as error_sum
    from ${finer.table} f
    where f.model_version = k.model_version and f.bucket >= k.bucket and f.bucket < k.bucket + interval '${tier.stepUs / 1_000_000} seconds'
    having count(*) > 0) s
  where r.bucket = k.bucket and r.model_version = k.model_version`;
});

/**
 * After a correction's passes: the label sums of the buckets it touched, recomputed instead of
 * left as what the removal's subtraction left. Taking a label out of a sum cancels it only to the
 * rounding of the largest values the bucket ever held: the actuals 7.3 and 1234.5, the second
 * corrected to 7.3, left an M2 of 1.2e-10 instead of 0, and R² = -1.25e11 instead of undefined.
 * The accurate count is recounted from the rows' stored `is_accurate` too: the removal judged the
 * old label by today's tolerance, which may have changed since it was stored. (The anomaly count
 * has no stored flag to recount from.) The minute rows come from the raw rows, each coarser tier
 * from the tier below it (exact rows, merged with mlmon_merge_moments). The transaction holds every row it rewrites (its passes
 * locked them), so a concurrent writer's uncommitted rows are neither read here nor lost: that
 * writer adds its delta to these rows after this commit, as it would have.
 */
export async function recomputeCorrectedSums(tx: TransactionSql, corrected: { bucketUs: number; modelVersion: string }[]): Promise<void> {
  if (corrected.length === 0) return;
  const statements = [RECOMPUTE_MINUTES, ...RECOMPUTE_COARSER];
  for (const [k, tier] of ROLLUP_TIERS.entries()) {
    const keys = new Map<string, { bucket: string; modelVersion: string }>();
    for (const { bucketUs, modelVersion } of corrected) {
      const bucketOfTier = floorTo(bucketUs, tier.stepUs);
      keys.set(bucketKey(bucketOfTier, modelVersion), { bucket: isoMicros(bucketOfTier), modelVersion });
    }
    const buckets = arrayLiteral([...keys.values()].map(({ bucket }) => bucket));
    const versions = arrayLiteral([...keys.values()].map(({ modelVersion }) => modelVersion));
    await tx.unsafe(statements[k]!, [buckets, versions], { prepare: true });
  }
}
