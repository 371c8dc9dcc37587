import type { TransactionSql } from 'postgres';

/** Namespace of mlmon's two-key advisory locks (the other key is the stripe). */
const LOCK_NAMESPACE = 727_100;
/** Bookings share 1024 lock stripes: bounded lock-table use for a batch of 10,000. */
const STRIPES = 1024;

function stripesOf(bookingIds: Iterable<number>): number[] {
  return [...new Set([...bookingIds].map((id) => id % STRIPES))].sort((a, b) => a - b);
}

/**
 * A prediction and the actual of the same booking may arrive at the same moment in two
 * transactions that cannot see each other; without a lock the join would be lost. Predictions
 * take the booking's stripe shared (they do not conflict among themselves), actuals exclusive.
 * Stripes are taken in ascending order, so writers never deadlock on them.
 */
export async function lockBookings(tx: TransactionSql, bookingIds: Iterable<number>, mode: 'shared' | 'exclusive'): Promise<void> {
  const stripes = stripesOf(bookingIds);
  if (mode === 'shared') {
    await tx`select pg_advisory_xact_lock_shared(${LOCK_NAMESPACE}, s) from unnest(${stripes}::int[]) with ordinality as t(s, n) order by n`;
  } else {
    await tx`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, s) from unnest(${stripes}::int[]) with ordinality as t(s, n) order by n`;
  }
}
