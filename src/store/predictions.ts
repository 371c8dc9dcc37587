import type postgres from 'postgres';
import type { Sql } from '../db/connect.js';
import type { PredictionInput } from '../validate/prediction.js';
import { arrayLiteral } from './array-literal.js';
import { actualsOfLockedBookingsParameters, actualsOfLockedBookingsSql } from './booking-locks.js';
import type { ErrorRules } from '../aggregate/contribution.js';
import { rollupAdditionsSql } from './rollup.js';
import { UNKNOWN_VERSION } from '../validate/limits.js';
import { ensurePartitions, forgetKnownPartitions } from './partitions.js';

export interface StorePredictionsResult {
  /** Per input row: stored now, or skipped because its request_id was already stored. */
  inserted: boolean[];
}

/**
 * Which input rows the insert stored, from the request_ids it returned: a row without request_id
 * is always stored; of rows sharing a request_id, only the first can have been.
 */
export function attributeInserts(predictions: PredictionInput[], returnedRequestIds: Iterable<string | null>): boolean[] {
  const returned = new Set(returnedRequestIds);
  const claimed = new Set<string>();
  return predictions.map(({ request_id }) => {
    if (request_id === undefined) return true;
    if (claimed.has(request_id) || !returned.has(request_id)) return false;
    claimed.add(request_id);
    return true;
  });
}

/** The columns a prediction is sent with, in order; its actual and labels are joined in SQL. */
const INPUT_COLUMNS = [
  ['booking_id', 'bigint'],
  ['driver_id', 'bigint'],
  ['request_id', 'text'],
  ['predicted_delay_minutes', 'float8'],
  ['confidence', 'float8'],
  ['risk_level', 'text'],
  ['contributing_factors', 'jsonb'],
  ['model_version', 'text'],
  ['prediction_time_ms', 'float8'],
  ['feature_flag_enabled', 'boolean'],
  ['traffic_percentage', 'int'],
  ['created_at', 'timestamptz'],
] as const;
type InputRow = Record<(typeof INPUT_COLUMNS)[number][0], unknown>;

const NAMES = INPUT_COLUMNS.map(([name]) => name).join(', ');
const SELECTED = INPUT_COLUMNS.map(([name]) => (name === 'created_at' ? 'coalesce(i.created_at, now())' : `i.${name}`)).join(', ');

/** A request_id repeated within one write is a retry inside the batch: only its first row counts. */
function firstOfEachRequestId(predictions: PredictionInput[]): PredictionInput[] {
  const seen = new Set<string>();
  return predictions.filter(({ request_id }) => {
    if (request_id === undefined) return true;
    if (seen.has(request_id)) return false;
    seen.add(request_id);
    return true;
  });
}

function inputRowOf(p: PredictionInput): InputRow {
  return {
    booking_id: p.booking_id,
    driver_id: p.driver_id ?? null,
    request_id: p.request_id ?? null,
    predicted_delay_minutes: p.predicted_delay_minutes,
    confidence: p.confidence,
    risk_level: p.risk_level,
    contributing_factors: p.contributing_factors ?? null,
    model_version: p.model_version ?? UNKNOWN_VERSION,
    prediction_time_ms: p.prediction_time_ms ?? null,
    feature_flag_enabled: p.feature_flag_enabled ?? null,
    traffic_percentage: p.traffic_percentage ?? null,
    created_at: p.created_at ?? null,
  };
}

/**
 * The write statement, built once: composing it from fragments on every call cost the service
 * more CPU than the rest of a write (BENCHMARKS.md). Its parameters, in order: one array per input
 * column ($1 ...), the three of actualsOfLockedBookingsSql, the accuracy tolerance, the anomaly
 * threshold.
 *
 * It stores predictions all-or-nothing in ONE statement, so a write costs one round trip and holds
 * the hot rollup rows only while the database works: it reads the actuals of the bookings after
 * locking them (an actual that arrived first labels the prediction), skips request_ids already
 * stored, inserts, and adds the inserted rows to every rollup tier. Only the stored request_ids
 * come back. The rows travel as one array per column, unnested in SQL: PostgreSQL parses arrays
 * about 3 times faster than a JSON record set. Every column travels as a text[] literal built by
 * arrayLiteral and is cast in SQL, so one literal format serves every type: a JS array would go
 * through postgres.js, which serializes a timestamptz[] through Date (milliseconds only) and would
 * JSON-encode a jsonb[] element again; typed literals ($1::bigint[]) measured no cheaper.
 */
const WRITE_STATEMENT = (() => {
  const next = INPUT_COLUMNS.length + 1;
  const tolerance = `$${next + 3}::float8`;
  const anomaly = `$${next + 4}::float8`;
  const columns = INPUT_COLUMNS.map(([, type], i) => `$${i + 1}::text[]::${type}[]`).join(', ');
  return `
    with input as materialized (
      select * from unnest(${columns}) as i(${NAMES})
    ), actual as materialized (
      select * from ${actualsOfLockedBookingsSql(next)}
    ), claimed as (
      -- Idempotency: a request_id is claimed first; only rows that claimed theirs (or carry none)
      -- are inserted. Rows arrive deduplicated, so no request_id appears twice. Claimed in one
      -- order whatever the rows' order, so that writes sharing request ids never deadlock.
      insert into ml_request_id (request_id, created_at)
      select request_id, coalesce(created_at, now()) from input where request_id is not null
      order by request_id collate "C"
      on conflict (request_id) do nothing
      returning request_id
    ), inserted as (
      insert into ml_prediction (${NAMES}, actual_delay_minutes, actual_pickup_at, actual_dropoff_at, prediction_error, is_accurate)
      select ${SELECTED}, a.actual_delay_minutes, a.actual_pickup_at, a.actual_dropoff_at,
             abs(i.predicted_delay_minutes - a.actual_delay_minutes),
             abs(i.predicted_delay_minutes - a.actual_delay_minutes) < ${tolerance}
      from input i left join actual a using (booking_id)
      where i.request_id is null or i.request_id in (select request_id from claimed)
      returning request_id, created_at, model_version, predicted_delay_minutes, confidence, prediction_time_ms, actual_delay_minutes, prediction_error
    ), ${rollupAdditionsSql('inserted', { tolerance, anomaly })}
    select request_id from inserted where request_id is not null`;
})();

/** Stores predictions all-or-nothing; see WRITE_STATEMENT. */
export async function storePredictions(sql: Sql, predictions: PredictionInput[], rules: ErrorRules): Promise<StorePredictionsResult> {
  if (predictions.length === 0) return { inserted: [] };
  const rows = firstOfEachRequestId(predictions).map(inputRowOf);
  await ensurePartitions(sql, rows.map((row) => row.created_at as string | null));
  const parameters = [
    ...INPUT_COLUMNS.map(([name]) => arrayLiteral(rows.map((row) => row[name]))),
    ...actualsOfLockedBookingsParameters(predictions.map((p) => p.booking_id)),
    rules.accuracyToleranceMinutes,
    rules.anomalyThresholdMinutes,
  ];
  const stored = await sql.unsafe<{ request_id: string }[]>(WRITE_STATEMENT, parameters as postgres.ParameterOrJSON<never>[], { prepare: true }).catch((error: unknown) => {
    // "no partition of relation found": a month this process knew was dropped by retention.
    if ((error as { code?: string }).code === '23514') forgetKnownPartitions(sql);
    throw error;
  });
  return { inserted: attributeInserts(predictions, stored.map((row) => row.request_id)) };
}
