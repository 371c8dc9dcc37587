import type { Sql } from '../db/connect.js';
import type { Aggregate } from './moments.js';
import { ROLLUP_TIERS } from '../store/rollup.js';
import { isoMicros, planTiers, type Range } from './window.js';

export interface WindowQuery {
  range: Range;
  /** Split the window into buckets of this many microseconds (aligned to the epoch). */
  stepUs?: number;
  /** Restrict to these versions; absent = every version. */
  modelVersions?: string[];
  anomalyThresholdMinutes: number;
}

export interface VersionStepAggregate {
  modelVersion: string;
  /** Index of the step bucket (floor(t / step)); 0 without a step. */
  step: number;
  aggregate: Aggregate;
}

interface Row {
  model_version: string;
  step: number;
  predictions: number;
  confidence_sum: number;
  latency_count: number;
  latency_sum_ms: number;
  labelled: number;
  accurate: number;
  anomalies: number;
  error_abs_sum: number;
  error_sq_sum: number;
  actual_mean: number | null;
  actual_m2: number | null;
}

/** Rollup tiers usable for a query: coarsest first, only those whose buckets fit in its steps. */
function tiersFor(stepUs: number | undefined) {
  return [...ROLLUP_TIERS].reverse().filter((tier) => stepUs === undefined || stepUs % tier.stepUs === 0);
}

/**
 * Sums a window per model version (and per step bucket): whole hours and minutes from the rollup
 * tiers, the partial edge minutes from raw rows. The moments of the parts are merged with the
 * stable two-level formula M2 = Σ M2_i + Σ n_i (mean_i - mean)², never with raw sums of squares.
 */
export async function readWindow(sql: Sql, query: WindowQuery): Promise<VersionStepAggregate[]> {
  const tiers = tiersFor(query.stepUs);
  const plan = planTiers(query.range, tiers.map((tier) => tier.stepUs));
  const versions = query.modelVersions;
  const stepOf = (column: 'bucket' | 'created_at') =>
    query.stepUs
      ? sql`floor(extract(epoch from ${sql(column)}) * 1000000 / ${query.stepUs})::bigint`
      : sql`0::bigint`;
  const versionFilter = versions ? sql`and model_version = any(${versions}::text[])` : sql``;
  const within = (column: 'bucket' | 'created_at', ranges: Range[]) =>
    ranges
      .map(({ start, end }) => sql`(${sql(column)} >= ${isoMicros(start)}::text::timestamptz and ${sql(column)} < ${isoMicros(end)}::text::timestamptz)`)
      .reduce((either, next) => sql`${either} or ${next}`);
  const parts = plan.tiers
    .map((planned, i) => ({ ...planned, table: tiers[i]!.table }))
    .filter(({ ranges }) => ranges.length > 0)
    .map(
      ({ table, ranges }) => sql`
        select model_version, ${stepOf('bucket')} as step, predictions, confidence_sum, latency_count,
               latency_sum_ms, labelled, accurate, anomalies, error_abs_sum, error_sq_sum, actual_mean, actual_m2
        from ${sql(table)} where (${within('bucket', ranges)}) ${versionFilter}`,
    );
  // Raw rows last, named like the rollup columns (they may be the only part).
  if (plan.raw.length > 0) {
    parts.push(sql`
      select model_version, ${stepOf('created_at')} as step, 1 as predictions, confidence as confidence_sum,
             (prediction_time_ms is not null)::int as latency_count, coalesce(prediction_time_ms, 0) as latency_sum_ms,
             (actual_delay_minutes is not null)::int as labelled, coalesce(is_accurate, false)::int as accurate,
             coalesce(prediction_error > ${query.anomalyThresholdMinutes}, false)::int as anomalies,
             coalesce(prediction_error, 0) as error_abs_sum, coalesce(prediction_error ^ 2, 0) as error_sq_sum,
             coalesce(actual_delay_minutes, 0) as actual_mean, 0 as actual_m2
      from ml_prediction where (${within('created_at', plan.raw)}) ${versionFilter}`);
  }
  if (parts.length === 0) return [];
  const rows = await sql<Row[]>`
    with parts as (${parts.reduce((all, part) => sql`${all} union all ${part}`)}),
    centre as (
      select model_version, step, sum(labelled * actual_mean) / nullif(sum(labelled), 0) as mean
      from parts group by model_version, step
    )
    select p.model_version, p.step::float8 as step,
           sum(p.predictions)::float8 as predictions, sum(p.confidence_sum) as confidence_sum,
           sum(p.latency_count)::float8 as latency_count, sum(p.latency_sum_ms) as latency_sum_ms,
           sum(p.labelled)::float8 as labelled, sum(p.accurate)::float8 as accurate,
           sum(p.anomalies)::float8 as anomalies, sum(p.error_abs_sum) as error_abs_sum,
           sum(p.error_sq_sum) as error_sq_sum, c.mean as actual_mean,
           sum(p.actual_m2 + p.labelled * (p.actual_mean - coalesce(c.mean, 0)) ^ 2) as actual_m2
    from parts p join centre c using (model_version, step)
    group by p.model_version, p.step, c.mean
    order by p.model_version, p.step`;
  return rows.map((r) => ({
    modelVersion: r.model_version,
    step: r.step,
    aggregate: {
      predictions: r.predictions,
      confidenceSum: r.confidence_sum,
      latencyCount: r.latency_count,
      latencySumMs: r.latency_sum_ms,
      labelled: r.labelled,
      accurate: r.accurate,
      anomalies: r.anomalies,
      errorAbsSum: r.error_abs_sum,
      errorSqSum: r.error_sq_sum,
      actualMean: r.labelled > 0 ? (r.actual_mean ?? 0) : 0,
      actualM2: r.labelled > 0 ? (r.actual_m2 ?? 0) : 0,
    },
  }));
}
