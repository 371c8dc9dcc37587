import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TransactionSql } from 'postgres';
import type { Sql } from '../db/connect.js';
import { copyLines } from '../db/copy-text.js';
import type { PredictionInput } from '../validate/prediction.js';
import { lockBookings } from './booking-locks.js';
import { factsOf, labelOf, RollupDeltas, type ErrorRules, type PredictionFactsRow } from './contribution.js';
import { applyRollupDeltas } from './rollup.js';
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

/** The columns written per prediction, in order: one list for every transport. */
const STORED_COLUMNS = [
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
  ['actual_delay_minutes', 'float8'],
  ['actual_pickup_at', 'timestamptz'],
  ['actual_dropoff_at', 'timestamptz'],
  ['prediction_error', 'float8'],
  ['is_accurate', 'boolean'],
  ['created_at', 'timestamptz'],
] as const;
type StoredRow = Record<(typeof STORED_COLUMNS)[number][0], unknown>;

const NAMES = STORED_COLUMNS.map(([name]) => name).join(', ');
const DEFINITIONS = STORED_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
const SELECTED = NAMES.replace('created_at', 'coalesce(created_at, now())');

/** From this many rows on, rows travel by COPY (cheaper to parse than one large JSON value). */
export const COPY_FROM_ROWS = 500;

type InsertedRow = PredictionFactsRow & { request_id: string | null };

/**
 * Inserts rows in input order, skipping request_ids already stored. Large inputs are streamed
 * with COPY into a transaction-scoped staging table first.
 */
async function insertRows(sql: Sql, tx: TransactionSql, rows: StoredRow[]): Promise<InsertedRow[]> {
  await ensurePartitions(sql, tx, rows.map((row) => row.created_at as string | null));
  let source;
  if (rows.length >= COPY_FROM_ROWS) {
    await tx.unsafe(`create temp table ml_prediction_staging (${DEFINITIONS}) on commit drop`);
    const copy = await tx.unsafe(`copy ml_prediction_staging (${NAMES}) from stdin`).writable();
    await pipeline(Readable.from(copyLines(rows, STORED_COLUMNS.map(([name]) => name))), copy);
    source = tx`ml_prediction_staging`;
  } else {
    source = tx`jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as p(${tx.unsafe(DEFINITIONS)})`;
  }
  // Idempotency: a request_id is claimed in ml_request_id first; only rows that claimed theirs (or
  // carry none) are inserted. Rows reach here deduplicated, so no request_id appears twice.
  return tx<InsertedRow[]>`
    with claimed as (
      insert into ml_request_id (request_id, created_at)
      select request_id, coalesce(created_at, now()) from ${source} where request_id is not null
      on conflict (request_id) do nothing
      returning request_id
    )
    insert into ml_prediction (${tx.unsafe(NAMES)})
    select ${tx.unsafe(SELECTED)} from ${source}
    where request_id is null or request_id in (select request_id from claimed)
    returning request_id, created_at, model_version, predicted_delay_minutes, confidence, prediction_time_ms, actual_delay_minutes`.catch(
    (error: unknown) => {
      // "no partition of relation found": a month this process knew was dropped by retention.
      if ((error as { code?: string }).code === '23514') forgetKnownPartitions(sql);
      throw error;
    },
  );
}

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

interface ActualRow {
  booking_id: number;
  actual_delay_minutes: number;
  actual_pickup_at: Date | null;
  actual_dropoff_at: Date | null;
}

/**
 * Stores predictions all-or-nothing in one transaction: joins any actual that arrived first,
 * skips retried request_ids, and updates the rollup in the same transaction.
 */
export async function storePredictions(sql: Sql, predictions: PredictionInput[], rules: ErrorRules): Promise<StorePredictionsResult> {
  if (predictions.length === 0) return { inserted: [] };
  const bookingIds = predictions.map((p) => p.booking_id);
  return sql.begin(async (tx) => {
    await lockBookings(tx, bookingIds, 'shared');
    const actuals = new Map<number, ActualRow>();
    for (const row of await tx<ActualRow[]>`
      select booking_id, actual_delay_minutes, actual_pickup_at, actual_dropoff_at
      from ml_actual where booking_id = any(${[...new Set(bookingIds)]}::bigint[])`) {
      actuals.set(row.booking_id, row);
    }
    const rows = firstOfEachRequestId(predictions).map((p): StoredRow => {
      const actual = actuals.get(p.booking_id);
      const label = actual ? labelOf(p.predicted_delay_minutes, actual.actual_delay_minutes, rules) : undefined;
      return {
        booking_id: p.booking_id,
        driver_id: p.driver_id ?? null,
        request_id: p.request_id ?? null,
        predicted_delay_minutes: p.predicted_delay_minutes,
        confidence: p.confidence,
        risk_level: p.risk_level,
        contributing_factors: p.contributing_factors ?? null,
        model_version: p.model_version ?? 'unknown',
        prediction_time_ms: p.prediction_time_ms ?? null,
        feature_flag_enabled: p.feature_flag_enabled ?? null,
        traffic_percentage: p.traffic_percentage ?? null,
        created_at: p.created_at ?? null,
        actual_delay_minutes: actual?.actual_delay_minutes ?? null,
        actual_pickup_at: actual?.actual_pickup_at ?? null,
        actual_dropoff_at: actual?.actual_dropoff_at ?? null,
        prediction_error: label?.prediction_error ?? null,
        is_accurate: label?.is_accurate ?? null,
      };
    });
    const inserted = await insertRows(sql, tx, rows);
    const deltas = new RollupDeltas();
    for (const row of inserted) deltas.addPrediction(factsOf(row), rules);
    await applyRollupDeltas(tx, deltas);
    return { inserted: attributeInserts(predictions, inserted.map((row) => row.request_id)) };
  });
}
