import type { Sql } from '../db/connect.js';
import type { PiecesQuery, PieceReport, VersionPieceAggregate } from '../aggregate/reports.js';
import { ROLLUP_TIERS } from './rollup.js';
import { isoMicros, planPieces } from '../aggregate/window.js';

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
  error_sum: number | null;
}

/** The rollup tiers coarsest first, as planPieces takes them. */
const TIERS = [...ROLLUP_TIERS].sort((a, b) => b.stepUs - a.stepUs);

/**
 * The read is the SQL function mlmon_window_pieces (migration 00007: why it plans without
 * sequential scans; migration 00008: how it merges the parts). Its `sources` number what reads
 * each range: raw rows 0, then these tables in this order.
 */
const SOURCE_TABLES = ['ml_rollup_day', 'ml_rollup_hour', 'ml_rollup_10min', 'ml_rollup_minute'];
if (TIERS.map((tier) => tier.table).join() !== SOURCE_TABLES.join()) {
  throw new Error(`mlmon_window_pieces reads ${SOURCE_TABLES.join(', ')}; the tiers are ${TIERS.map((tier) => tier.table).join(', ')}: a migration must update it`);
}
const RAW_SOURCE = 0;
const tierSource = (k: number) => k + 1;

/**
 * Timestamps travel as text (microseconds; a timestamptz parameter would be rounded to
 * milliseconds by the driver) and are cast once per call. The text never changes, so each
 * connection prepares it once, whatever the window.
 */
const PIECES_SQL = `
  select * from mlmon_window_pieces($1::text[]::timestamptz[], $2::text[], $3::text[]::timestamptz[],
                                    $4::text[]::timestamptz[], $5::int[], $6::float8, $7::text)`;

/**
 * Sums consecutive pieces of time per model version in one query: whole days, hours, 10-minute
 * blocks and minutes from the rollup tiers, the partial edge minutes from raw rows. Results are exact to the microsecond.
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
      errorSum: r.error_sum,
    },
  }));
}

/** Reads the pieces a report needs and merges them into it. */
export async function readReport<T>(sql: Sql, report: PieceReport<T>): Promise<T> {
  return report.assemble(await readPieces(sql, report.query));
}
