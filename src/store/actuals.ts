import type { Sql } from '../db/connect.js';
import type { ActualInput } from '../validate/actual.js';
import { lockBookingsExclusive } from './booking-locks.js';
import { factsOf, labelOf, RollupDeltas, type ErrorRules, type PredictionFactsRow } from '../aggregate/contribution.js';
import { applyRollupDeltas, recomputeCorrectedSums } from './rollup.js';

export interface StoreActualsResult {
  /** Prediction rows whose actual was set or replaced. */
  updated: number;
  /** Actuals kept for bookings with no prediction yet: joined when the prediction arrives. */
  pending: number;
}

/**
 * What a request of actuals did, from what storeActuals returned for them (their part of a group
 * commit): a booking sent twice in the request counts once, as its last value did the labelling.
 */
export function actualsOutcome(actuals: ActualInput[], labelled: number[]): StoreActualsResult {
  const perBooking = new Map(actuals.map((actual, index) => [actual.booking_id, labelled[index]!]));
  let updated = 0;
  let pending = 0;
  for (const predictions of perBooking.values()) {
    updated += predictions;
    if (predictions === 0) pending++;
  }
  return { updated, pending };
}

interface LockedPrediction extends PredictionFactsRow {
  id: number;
  booking_id: number;
}

/**
 * One actual per booking, as if the ones sent for it (in one request, or in the requests of one
 * group commit) were stored one after the other: the last delay wins, and a pickup or dropoff time
 * left out keeps the one sent before, as the upsert's coalesce does for rows already stored.
 */
export function lastPerBooking(actuals: ActualInput[]): ActualInput[] {
  const merged = new Map<number, ActualInput>();
  for (const actual of actuals) {
    const earlier = merged.get(actual.booking_id);
    const pickup = actual.actual_pickup_at ?? earlier?.actual_pickup_at;
    const dropoff = actual.actual_dropoff_at ?? earlier?.actual_dropoff_at;
    merged.set(actual.booking_id, {
      ...actual,
      ...(pickup === undefined ? {} : { actual_pickup_at: pickup }),
      ...(dropoff === undefined ? {} : { actual_dropoff_at: dropoff }),
    });
  }
  return [...merged.values()];
}

/**
 * Records the ground truth of bookings and labels their predictions (all of them: a booking may
 * have been predicted more than once). A repeated actual replaces the previous one, in the
 * prediction rows and in the rollup, in one transaction. Returns, per input actual, how many
 * predictions its booking has (all labelled now; 0: the actual waits for its prediction).
 */
export async function storeActuals(sql: Sql, input: ActualInput[], rules: ErrorRules): Promise<number[]> {
  const actuals = lastPerBooking(input);
  if (actuals.length === 0) return [];
  const byBooking = new Map(actuals.map((a) => [a.booking_id, a]));
  return sql.begin(async (tx) => {
    await lockBookingsExclusive(tx, byBooking.keys());
    const rows = actuals.map((a) => ({
      booking_id: a.booking_id,
      actual_delay_minutes: a.actual_delay_minutes,
      actual_pickup_at: a.actual_pickup_at ?? null,
      actual_dropoff_at: a.actual_dropoff_at ?? null,
    }));
    await tx`
      insert into ml_actual as a (booking_id, actual_delay_minutes, actual_pickup_at, actual_dropoff_at)
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as x(
        booking_id bigint, actual_delay_minutes float8, actual_pickup_at timestamptz, actual_dropoff_at timestamptz)
      on conflict (booking_id) do update set
        actual_delay_minutes = excluded.actual_delay_minutes,
        actual_pickup_at = coalesce(excluded.actual_pickup_at, a.actual_pickup_at),
        actual_dropoff_at = coalesce(excluded.actual_dropoff_at, a.actual_dropoff_at),
        updated_at = now()`;
    const predictions = await tx<LockedPrediction[]>`
      select id, booking_id, created_at, model_version, predicted_delay_minutes, confidence,
             prediction_time_ms, actual_delay_minutes
      from ml_prediction where booking_id = any(${[...byBooking.keys()]}::bigint[])
      order by id for update`;
    const deltas = new RollupDeltas();
    const updates = predictions.map((p) => {
      const actual = byBooking.get(p.booking_id)!;
      deltas.addRelabel(factsOf(p), actual.actual_delay_minutes, rules);
      return {
        id: p.id,
        actual_delay_minutes: actual.actual_delay_minutes,
        actual_pickup_at: actual.actual_pickup_at ?? null,
        actual_dropoff_at: actual.actual_dropoff_at ?? null,
        ...labelOf(p.predicted_delay_minutes, actual.actual_delay_minutes, rules),
      };
    });
    if (updates.length > 0) {
      await tx`
        update ml_prediction p set
          actual_delay_minutes = u.actual_delay_minutes,
          actual_pickup_at = coalesce(u.actual_pickup_at, p.actual_pickup_at),
          actual_dropoff_at = coalesce(u.actual_dropoff_at, p.actual_dropoff_at),
          prediction_error = u.prediction_error,
          is_accurate = u.is_accurate,
          updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(updates)}::text::jsonb) as u(
          id bigint, actual_delay_minutes float8, actual_pickup_at timestamptz,
          actual_dropoff_at timestamptz, prediction_error float8, is_accurate boolean)
        where p.id = u.id`;
      await applyRollupDeltas(tx, deltas);
      await recomputeCorrectedSums(tx, deltas.correctedMinutes());
    }
    const predictionsOf = new Map<number, number>();
    for (const { booking_id } of predictions) predictionsOf.set(booking_id, (predictionsOf.get(booking_id) ?? 0) + 1);
    return input.map(({ booking_id }) => predictionsOf.get(booking_id) ?? 0);
  });
}
