import type { ROLLUP_TIERS } from '../../src/store/rollup.js';
import type { TestDatabase } from './database.js';

/**
 * The buckets of one rollup tier and model version that disagree with SQL over the raw rows
 * (counts exactly, sums and moments to 1e-9 / 1e-7; an unknown signed sum is a mismatch), as rows with both sides; empty when the tier
 * is exact. Anomalies are counted with the seed's threshold of 5 minutes.
 */
export async function tierMismatches(db: TestDatabase, tier: (typeof ROLLUP_TIERS)[number], modelVersion: string): Promise<Record<string, unknown>[]> {
  return db.sql.unsafe(`
    with raw as (
      select date_bin('${tier.stepUs / 1e6} seconds', created_at, timestamptz '1970-01-01 00:00:00+00') as bucket,
             count(*)::int as predictions, count(actual_delay_minutes)::int as labelled,
             count(*) filter (where is_accurate)::int as accurate, count(*) filter (where prediction_error > 5)::int as anomalies,
             coalesce(sum(prediction_error), 0) as err, coalesce(sum(predicted_delay_minutes - actual_delay_minutes), 0) as signed,
             coalesce(avg(actual_delay_minutes), 0) as mean,
             coalesce(var_pop(actual_delay_minutes) * count(actual_delay_minutes), 0) as m2
      from ml_prediction where model_version = $1 group by 1)
    select coalesce(raw.bucket, r.bucket) as bucket, raw.predictions, r.predictions::int as r_predictions, raw.labelled, r.labelled::int as r_labelled,
           raw.accurate, r.accurate::int as r_accurate, raw.anomalies, r.anomalies::int as r_anomalies, raw.err, r.error_abs_sum, raw.signed, r.error_sum, raw.mean, r.actual_mean, raw.m2, r.actual_m2
    from raw full join ${tier.table} r on r.bucket = raw.bucket and r.model_version = $1
    where (r.model_version = $1 or r.model_version is null)
      and (raw.bucket is null or r.bucket is null or raw.predictions <> r.predictions or raw.labelled <> r.labelled
           or raw.accurate <> r.accurate or raw.anomalies <> r.anomalies or abs(raw.err - r.error_abs_sum) > 1e-9
           or r.error_sum is null or abs(raw.signed - r.error_sum) > 1e-9
           or abs(raw.mean - r.actual_mean) > 1e-9 or abs(raw.m2 - r.actual_m2) > 1e-7)`, [modelVersion]);
}
