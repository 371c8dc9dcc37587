/**
 * The read endpoints' answers computed the old way: by SQL over the raw prediction rows (what the
 * replaced service did in Python, done here in the database, which is the fast version of the old
 * design). Used as the baseline of the read benchmark and to check that the loaded rollups agree
 * with the rows. Queries that the service runs concurrently are run concurrently here too.
 */
import type postgres from 'postgres';
import type { QualityMetrics } from '../../src/aggregate/metrics.js';

type Sql = postgres.Sql;

/** The service's metrics object, computed here from the raw rows instead. */
export type RawMetrics = QualityMetrics;

const metricsColumns = (sql: Sql, threshold: number) => sql`
  count(*)::float8 as predictions,
  count(actual_delay_minutes)::float8 as count,
  avg(prediction_error) as mae,
  sqrt(avg(prediction_error ^ 2)) as rmse,
  1 - sum(prediction_error ^ 2) / nullif(var_pop(actual_delay_minutes) * count(actual_delay_minutes), 0) as r2,
  avg(is_accurate::int)::float8 as accuracy_rate,
  avg(confidence) as avg_confidence,
  avg(prediction_time_ms) as avg_prediction_time_ms,
  count(*) filter (where prediction_error > ${threshold}::float8)::float8 as anomalies`;

/** Metrics of predictions created in (from, to]. */
export async function rawMetrics(sql: Sql, from: Date, to: Date, threshold = 5): Promise<RawMetrics> {
  const [row] = await sql<RawMetrics[]>`
    select ${metricsColumns(sql, threshold)} from ml_prediction
    where created_at > ${from} and created_at <= ${to}`;
  return row!;
}

const HOUR_MS = 3_600_000;

/** GET /summary: total, 24 h and 7 d metrics, flags, failures of the last 24 h. */
export async function rawSummary(sql: Sql, threshold = 5): Promise<unknown> {
  const now = new Date();
  return Promise.all([
    sql`select count(*)::float8 as total from ml_prediction`,
    rawMetrics(sql, new Date(now.getTime() - 24 * HOUR_MS), now, threshold),
    rawMetrics(sql, new Date(now.getTime() - 168 * HOUR_MS), now, threshold),
    sql`select ml_enabled, ml_traffic_percentage from ml_feature_flag`,
    sql`select coalesce(sum(failures), 0)::float8 from ml_request_failure_minute where bucket >= ${new Date(now.getTime() - 24 * HOUR_MS)}`,
  ]);
}

/** GET /metrics?hours=24. */
export async function rawMetrics24h(sql: Sql, threshold = 5): Promise<RawMetrics> {
  const now = new Date();
  return rawMetrics(sql, new Date(now.getTime() - 24 * HOUR_MS), now, threshold);
}

/** GET /daily?days=30: one row per UTC day. */
export async function rawDaily(sql: Sql, days: number, threshold = 5): Promise<unknown> {
  return sql`
    select date_trunc('day', created_at at time zone 'UTC') as day, ${metricsColumns(sql, threshold)}
    from ml_prediction
    where created_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - ${days - 1}::int * interval '1 day'
      and created_at <= now()
    group by 1 order by 1`;
}

/** The Prometheus scrape's gauges: windows 1 h, 24 h, 7 d, per model version and for the fleet. */
export async function rawScrape(sql: Sql, threshold = 5): Promise<unknown> {
  const now = new Date();
  return Promise.all([
    sql`select ml_enabled, ml_traffic_percentage from ml_feature_flag`,
    ...[1, 24, 168].map(
      (hours) => sql`
        select model_version, ${metricsColumns(sql, threshold)} from ml_prediction
        where created_at > ${new Date(now.getTime() - hours * HOUR_MS)} and created_at <= ${now}
        group by grouping sets ((model_version), ())`,
    ),
  ]);
}

/**
 * GET /anomalies?hours=24&limit=1000, the dashboard's anomaly table. The threshold is written into
 * the statement, as a DBA would, so it reads the anomaly index (migration 00010) like the service.
 */
export async function rawAnomalies24h(sql: Sql, threshold = 5): Promise<unknown> {
  return sql.unsafe(`
    select * from ml_prediction
    where created_at > now() - interval '24 hours' and prediction_error > ${Number(threshold)}
    order by created_at desc, id desc limit 1000`);
}
