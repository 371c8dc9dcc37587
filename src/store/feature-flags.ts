import type { Sql } from '../db/connect.js';

export interface FeatureFlags {
  ml_enabled: boolean;
  ml_traffic_percentage: number;
  updated_at: Date;
}

export async function readFlags(sql: Sql): Promise<FeatureFlags> {
  const [flags] = await sql<FeatureFlags[]>`select ml_enabled, ml_traffic_percentage, updated_at from ml_feature_flag`;
  if (!flags) throw new Error('ml_feature_flag has no row: the migrations were not applied');
  return flags;
}

export async function updateFlags(sql: Sql, change: { ml_enabled?: boolean; ml_traffic_percentage?: number }): Promise<FeatureFlags> {
  const [flags] = await sql<FeatureFlags[]>`
    update ml_feature_flag set
      ml_enabled = coalesce(${change.ml_enabled ?? null}::boolean, ml_enabled),
      ml_traffic_percentage = coalesce(${change.ml_traffic_percentage ?? null}::int, ml_traffic_percentage),
      updated_at = now()
    returning ml_enabled, ml_traffic_percentage, updated_at`;
  return flags!;
}

/** Failed ML requests per minute; the successes are the predictions themselves. */
export async function recordFailures(sql: Sql, count: number, modelVersion: string): Promise<void> {
  await sql`
    insert into ml_request_failure_minute as f (bucket, model_version, failures)
    values (date_trunc('minute', now()), ${modelVersion}, ${count})
    on conflict (bucket, model_version) do update set failures = f.failures + excluded.failures`;
}
