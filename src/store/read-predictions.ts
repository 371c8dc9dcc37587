import type { Sql } from '../db/connect.js';
import { HOUR_US, isoMicros, MICROS_PER_MS, type Range } from '../aggregate/window.js';
import { EARLIEST_STORABLE_MS, END_OF_INSTANTS_MS, isFleet } from '../validate/limits.js';
import { rounded } from '../aggregate/metrics.js';

export interface StoredPrediction {
  id: number;
  booking_id: number;
  driver_id: number | null;
  request_id: string | null;
  predicted_delay_minutes: number;
  confidence: number;
  risk_level: string;
  contributing_factors: Record<string, number> | null;
  model_version: string;
  prediction_time_ms: number | null;
  feature_flag_enabled: boolean | null;
  traffic_percentage: number | null;
  actual_delay_minutes: number | null;
  actual_pickup_at: Date | null;
  actual_dropoff_at: Date | null;
  prediction_error: number | null;
  is_accurate: boolean | null;
  created_at: Date;
  updated_at: Date;
}

export interface Page {
  predictions: StoredPrediction[];
  /** Opaque position of the last row, to continue further back; null on the last page. */
  nextCursor: string | null;
}

interface Position {
  createdUs: number;
  id: number;
}

function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdUs}:${position.id}`).toString('base64url');
}

/** Null when the text is not a cursor this service produced. */
export function decodeCursor(cursor: string): Position | null {
  // Microseconds are negative before 1970 (backfilled history).
  const match = /^(-?\d{1,17}):(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) return null;
  const createdUs = Number(match[1]);
  // Only instants PostgreSQL can hold: a forged one outside would not even be a timestamp to it.
  if (createdUs < EARLIEST_STORABLE_MS * MICROS_PER_MS || createdUs >= END_OF_INSTANTS_MS * MICROS_PER_MS) return null;
  return { createdUs, id: Number(match[2]) };
}

const COLUMNS = `id, booking_id, driver_id, request_id, predicted_delay_minutes, confidence, risk_level,
  contributing_factors, model_version, prediction_time_ms, feature_flag_enabled, traffic_percentage,
  actual_delay_minutes, actual_pickup_at, actual_dropoff_at, prediction_error, is_accurate, created_at,
  updated_at, (extract(epoch from created_at) * 1000000)::bigint as created_us`;

type Row = StoredPrediction & { created_us: number };

/** Absent or 'all' (the fleet) filters nothing. */
const versionFilter = (sql: Sql, modelVersion: string | undefined) => (isFleet(modelVersion) ? sql`` : sql`and model_version = ${modelVersion}`);

function pageOf(rows: Row[], limit: number): Page {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    // The error as the metrics report it (0.7, not the 0.6999999999999993 of 9.2 - 8.5 in binary floating point).
    predictions: page.map(({ created_us: _position, ...prediction }) => ({
      ...prediction,
      prediction_error: prediction.prediction_error === null ? null : rounded(prediction.prediction_error),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor({ createdUs: last.created_us, id: last.id }) : null,
  };
}

/**
 * Newest first, keyset-paged on (created_at, id) so deep pages cost the same as the first;
 * optionally only those created in `range`.
 */
export async function recentPredictions(
  sql: Sql,
  options: { limit: number; after?: Position; range?: Range; modelVersion?: string },
): Promise<Page> {
  const { limit, after, range, modelVersion } = options;
  const rows = await sql<Row[]>`
    select ${sql.unsafe(COLUMNS)} from ml_prediction
    where true
      ${after ? sql`and (created_at, id) < (${isoMicros(after.createdUs)}::text::timestamptz, ${after.id})` : sql``}
      ${range ? sql`and created_at >= ${isoMicros(range.start)}::text::timestamptz and created_at < ${isoMicros(range.end)}::text::timestamptz` : sql``}
      ${versionFilter(sql, modelVersion)}
    order by created_at desc, id desc
    limit ${limit + 1}`;
  return pageOf(rows, limit);
}

/**
 * The anomalies read, with or without a version filter and a page's starting point. It is sent
 * unprepared, so that PostgreSQL plans it with the threshold's value: a threshold of 5 minutes or
 * more then reads the partial index of migration 00010 instead of every row of the window. A
 * prepared statement's generic plan cannot prove that the threshold lies above the index's
 * (BENCHMARKS.md).
 */
function anomaliesSql(byVersion: boolean, paged: boolean): string {
  let parameter = 4; // $1..$4: the range, the threshold, the row limit
  const version = byVersion ? `and model_version = $${++parameter}` : '';
  const after = paged ? `and (created_at, id) < ($${++parameter}::text::timestamptz, $${++parameter}::bigint)` : '';
  return `
  select ${COLUMNS} from ml_prediction
  where created_at >= $1::text::timestamptz and created_at < $2::text::timestamptz
    and prediction_error > $3::float8 ${version} ${after}
  order by created_at desc, id desc
  limit $4`;
}
const ANOMALIES_SQL = {
  fleet: { first: anomaliesSql(false, false), next: anomaliesSql(false, true) },
  version: { first: anomaliesSql(true, false), next: anomaliesSql(true, true) },
};

/** Predictions of the window whose error exceeds the threshold, newest first, keyset-paged like recentPredictions. */
export async function anomalies(
  sql: Sql,
  options: { range: Range; thresholdMinutes: number; limit: number; after?: Position; modelVersion?: string },
): Promise<Page> {
  const { range, thresholdMinutes, limit, after, modelVersion } = options;
  const byVersion = !isFleet(modelVersion);
  const parameters = [
    isoMicros(range.start),
    isoMicros(range.end),
    thresholdMinutes,
    limit + 1,
    ...(byVersion ? [modelVersion] : []),
    ...(after ? [isoMicros(after.createdUs), after.id] : []),
  ];
  const statement = ANOMALIES_SQL[byVersion ? 'version' : 'fleet'][after ? 'next' : 'first'];
  const rows = await sql.unsafe<Row[]>(statement, parameters, { prepare: false });
  return pageOf(rows, limit);
}

/**
 * Versions with predictions since a whole minute, sorted: whole hours from the hour tier, the
 * minutes before the first of them from the minute tier. A week is ~170 rows per version instead
 * of ~10,000 minutes (Grafana asks on every dashboard load). A bucket counts predictions only up,
 * so an hour has some exactly when one of its minutes has.
 */
export async function modelVersionsSince(sql: Sql, sinceUs: number): Promise<string[]> {
  const firstHourUs = Math.ceil(sinceUs / HOUR_US) * HOUR_US;
  const rows = await sql<{ model_version: string }[]>`
    select model_version from ml_rollup_hour
    where bucket >= ${isoMicros(firstHourUs)}::text::timestamptz and predictions > 0
    union
    select model_version from ml_rollup_minute
    where bucket >= ${isoMicros(sinceUs)}::text::timestamptz and bucket < ${isoMicros(firstHourUs)}::text::timestamptz and predictions > 0
    order by model_version`;
  return rows.map((r) => r.model_version);
}
