import type { Sql } from '../db/connect.js';
import type { Aggregate } from './moments.js';
import { ROLLUP_TIERS } from '../store/rollup.js';
import { isoMicros, planPieces } from './window.js';

export interface PiecesQuery {
  /**
   * Epoch microseconds b0 <= b1 <= ... <= bn: the pieces [b0, b1), [b1, b2), ... are summed
   * separately (the days of /daily, the disjoint parts of nested windows). A piece may be empty
   * (?hours=5e-324 is a window shorter than a microsecond).
   */
  boundaries: number[];
  /** Restrict to these versions; absent = every version. */
  modelVersions?: string[];
  /**
   * Sum the versions into one series per piece, named `seriesName` (the fleet), in the database:
   * a third of the rows to send and parse with three versions.
   */
  combineVersionsAs?: string;
  anomalyThresholdMinutes: number;
}

export interface VersionPieceAggregate {
  modelVersion: string;
  /** Index of the piece: i for [b_i, b_i+1). */
  piece: number;
  aggregate: Aggregate;
}

interface Row {
  piece: number;
  model_version: string;
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

/** The rollup tiers coarsest first, as planPieces takes them. */
const TIERS = [...ROLLUP_TIERS].sort((a, b) => b.stepUs - a.stepUs);

/** Which part reads a range of the query's $3/$4/$5 arrays: raw rows 0, tier TIERS[k] k + 1. */
const RAW_SOURCE = 0;
const tierSource = (k: number) => k + 1;

/**
 * The parameters are $1 boundaries, $2 versions (null = all), $3/$4/$5 the ranges to read (start,
 * end, source), $6 the anomaly threshold, $7 the combined series' name (null = per version).
 * Timestamps travel as text (microseconds; a timestamptz parameter would be rounded to
 * milliseconds by the driver) and are cast once per query, in two materialized CTEs (`q` the
 * scalars, `r` the ranges) that every part joins, never per row or per part. The text never
 * changes, so each connection prepares it once, whatever the window; and since the planner sees
 * the parameters only through those CTEs, it estimates the same with or without their values: the
 * generic plan then costs no more than a custom one, and PostgreSQL keeps it after five executions
 * instead of planning every request again (~1-2 ms each).
 */
const PARAMETERS = `
  q as materialized (
    select $1::text[]::timestamptz[] as boundaries, $2::text[] as versions, $6::float8 as anomaly, $7::text as series),
  r as materialized (
    select * from unnest($3::text[]::timestamptz[], $4::text[]::timestamptz[], $5::int[]) as r(start_at, end_at, source))`;
const PIECE = (column: string) => `width_bucket(${column}, q.boundaries) - 1`;
/** The series a row belongs to: its version, or the combined series when $7 names one. */
const SERIES = (alias: string) => `coalesce(q.series, ${alias}.model_version) collate "C"`;
const VERSIONS = (alias: string) => `(q.versions is null or ${alias}.model_version = any(q.versions))`;

const rollupPart = (table: string, source: number) => `
  select ${PIECE('t.bucket')} as piece, ${SERIES('t')} as model_version, t.predictions, t.confidence_sum, t.latency_count,
         t.latency_sum_ms, t.labelled, t.accurate, t.anomalies, t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2
  from q, r join ${table} t on t.bucket >= r.start_at and t.bucket < r.end_at
  where r.source = ${source} and ${VERSIONS('t')}`;

const RAW_PART = `
  select ${PIECE('p.created_at')}, ${SERIES('p')}, 1, p.confidence,
         (p.prediction_time_ms is not null)::int, coalesce(p.prediction_time_ms, 0),
         (p.actual_delay_minutes is not null)::int, coalesce(p.is_accurate, false)::int,
         coalesce(p.prediction_error > q.anomaly, false)::int,
         coalesce(p.prediction_error, 0), coalesce(p.prediction_error ^ 2, 0),
         coalesce(p.actual_delay_minutes, 0), 0
  from q, r join ml_prediction p on p.created_at >= r.start_at and p.created_at < r.end_at
  where r.source = ${RAW_SOURCE} and ${VERSIONS('p')}`;

/**
 * Every part (rollup buckets and raw edge rows, named like the rollup columns), then per piece and
 * version: sums, and the actuals' moments merged with the stable two-level formula
 * M2 = Σ M2_i + Σ n_i (mean_i - mean)², never with raw sums of squares. The group mean comes from a
 * window over the same sorted rows (one sort, no second scan of the parts; min() just picks it, it
 * is the same in every row of a group). Versions sort bytewise ("C"): the order only has to be
 * consistent, and that skips the collation. Counts are float8 in the mean so that no numeric
 * arithmetic runs per row.
 */
const PIECES_SQL = `
  with ${PARAMETERS},
  parts as (
    ${[...TIERS.map(({ table }, k) => rollupPart(table, tierSource(k))), RAW_PART].join('\n    union all')}
  ),
  centred as (
    select *, sum(labelled * actual_mean) over w / nullif(sum(labelled::float8) over w, 0) as mean
    from parts window w as (partition by piece, model_version)
  )
  select piece, model_version,
         sum(predictions)::float8 as predictions, sum(confidence_sum) as confidence_sum,
         sum(latency_count)::float8 as latency_count, sum(latency_sum_ms) as latency_sum_ms,
         sum(labelled)::float8 as labelled, sum(accurate)::float8 as accurate,
         sum(anomalies)::float8 as anomalies, sum(error_abs_sum) as error_abs_sum,
         sum(error_sq_sum) as error_sq_sum, min(mean) as actual_mean,
         sum(actual_m2 + labelled * (actual_mean - coalesce(mean, 0)) ^ 2) as actual_m2
  from centred
  group by piece, model_version
  order by piece, model_version`;

/**
 * Sums consecutive pieces of time per model version in one query: whole hours and minutes from
 * the rollup tiers, the partial edge minutes from raw rows. Results are exact to the microsecond.
 */
export async function readPieces(sql: Sql, query: PiecesQuery): Promise<VersionPieceAggregate[]> {
  const { boundaries } = query;
  if (boundaries.some((b, i) => i > 0 && b < boundaries[i - 1]!)) throw new Error(`boundaries must not decrease: ${boundaries.join(', ')}`);
  const plan = planPieces(boundaries, TIERS.map((tier) => tier.stepUs));
  const sources = [
    ...plan.tiers.flatMap(({ ranges: tierRanges }, k) => tierRanges.map((range) => ({ range, source: tierSource(k) }))),
    ...plan.raw.map((range) => ({ range, source: RAW_SOURCE })),
  ];
  if (sources.length === 0) return [];
  const rows = await sql.unsafe<Row[]>(
    PIECES_SQL,
    [
      boundaries.map(isoMicros),
      query.modelVersions ?? null,
      sources.map(({ range }) => isoMicros(range.start)),
      sources.map(({ range }) => isoMicros(range.end)),
      sources.map(({ source }) => source),
      query.anomalyThresholdMinutes,
      query.combineVersionsAs ?? null,
    ],
    { prepare: true },
  );
  return rows.map((r) => ({
    modelVersion: r.model_version,
    piece: r.piece,
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
