import type { TransactionSql } from 'postgres';
import { arrayLiteral } from './array-literal.js';

/*
 * A prediction and the actual of the same booking may arrive at the same moment in two
 * transactions that cannot see each other; without a lock the join would be lost. Predictions
 * take the booking's stripe shared (they do not conflict among themselves), actuals exclusive.
 * Stripes are taken in ascending order, so writers never deadlock on them.
 */

/** Namespace of mlmon's two-key advisory locks (the other key is the stripe). */
export const LOCK_NAMESPACE = 727_100;
/** Bookings share 1024 lock stripes: bounded lock-table use for a batch of 10,000. */
export const STRIPES = 1024;

function stripesOf(bookingIds: Iterable<number>): number[] {
  return [...new Set([...bookingIds].map((id) => id % STRIPES))].sort((a, b) => a - b);
}

/** For actuals: locks the stripes exclusive until the transaction ends. */
export async function lockBookingsExclusive(tx: TransactionSql, bookingIds: Iterable<number>): Promise<void> {
  await tx`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, s) from unnest(${stripesOf(bookingIds)}::int[]) with ordinality as t(s, n) order by n`;
}

/**
 * For predictions, as a row source inside their insert statement (SQL text with its three
 * parameters numbered from `first`): locks the stripes shared, then reads the bookings' actuals
 * with a snapshot taken after the lock (migration 00004).
 */
export const actualsOfLockedBookingsSql = (first: number) =>
  `mlmon_actuals_of_locked_bookings($${first}::int, $${first + 1}::int[], $${first + 2}::bigint[])`;

/** The parameters of actualsOfLockedBookingsSql, in order. */
export const actualsOfLockedBookingsParameters = (bookingIds: number[]) => [LOCK_NAMESPACE, arrayLiteral(stripesOf(bookingIds)), arrayLiteral([...new Set(bookingIds)])];
