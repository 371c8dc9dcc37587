import type { Sql } from '../db/connect.js';
import { isoMicros } from '../aggregate/window.js';
import type { FeatureFlags } from './feature-flags.js';

export interface Overview {
  /** Every prediction ever stored: the day tier holds the same totals in the fewest rows. */
  totalPredictions: number;
  flags: FeatureFlags;
  /** Failed ML requests reported since the given time (whole minutes). */
  failures: number;
}

/** What /summary shows besides its windows, in one round trip. */
export async function readOverview(sql: Sql, failuresSinceUs: number): Promise<Overview> {
  const [row] = await sql<(FeatureFlags & { total: number; failures: number })[]>`
    select f.ml_enabled, f.ml_traffic_percentage, f.updated_at,
           (select coalesce(sum(predictions), 0)::float8 from ml_rollup_day) as total,
           (select coalesce(sum(failures), 0)::float8 from ml_request_failure_minute
            where bucket >= date_trunc('minute', ${isoMicros(failuresSinceUs)}::text::timestamptz)) as failures
    from ml_feature_flag f`;
  if (!row) throw new Error('ml_feature_flag has no row: the migrations were not applied');
  const { total, failures, ...flags } = row;
  return { totalPredictions: total, flags, failures };
}
