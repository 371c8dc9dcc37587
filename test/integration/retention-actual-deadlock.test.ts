/**
 * Retention forgets old actuals (row locks held until its commit) and only then takes the partition
 * drop's ACCESS EXCLUSIVE lock on ml_prediction. A prediction statement holds ml_prediction (ROW
 * EXCLUSIVE, from its start) while it waits for its bookings' stripe; an actual holding that stripe
 * that updates a forgotten actual (a late correction of an old booking) waits for retention: a
 * cycle of hard waits, a deadlock. A third connection holding the stripe only forces the interleaving.
 */
import postgres from 'postgres';
import { applyRetention } from '../../src/store/partitions.js';
import { storePredictions } from '../../src/store/predictions.js';
import { storeActuals } from '../../src/store/actuals.js';
import { LOCK_NAMESPACE, STRIPES } from '../../src/store/booking-locks.js';
import { createTestDatabase, untilSessionsWaitForLocks, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const rules = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };

it('a late correction of an old booking during retention does not deadlock with a prediction of the same stripe', async () => {
  const now = new Date();
  const old = new Date(now.getTime() - 120 * 86_400_000);
  const oldBooking = 7;
  const newBooking = STRIPES + 7; // same stripe
  await storePredictions(db.sql, [{ booking_id: oldBooking, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low', created_at: old.toISOString() }], rules);
  await storeActuals(db.sql, [{ booking_id: oldBooking, actual_delay_minutes: 4 }], rules);
  await db.sql`update ml_actual set updated_at = ${old} where booking_id = ${oldBooking}`;
  await storePredictions(db.sql, [{ booking_id: 99, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low' }], rules); // this month's partition

  const blocker = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: Promise<unknown>;
    const held = new Promise<void>((resolve) => {
      holding = blocker.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${oldBooking % STRIPES})`;
        resolve();
        await released;
      });
    });
    await held;
    const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (error: Error) => error.message);
    const actual = outcome(storeActuals(db.sql, [{ booking_id: oldBooking, actual_delay_minutes: 6 }], rules)); // queues for the stripe
    await untilSessionsWaitForLocks(db, 1);
    const prediction = outcome(storePredictions(db.sql, [{ booking_id: newBooking, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low' }], rules));
    await untilSessionsWaitForLocks(db, 2);
    const retention = outcome(applyRetention(db.sql, 60, now)); // forgets the old actual, waits to drop
    await untilSessionsWaitForLocks(db, 3);
    release();
    await holding;
    const results = await Promise.all([actual, prediction, retention]);
    console.log(results);
    expect(results).toEqual(['ok', 'ok', 'ok']);
  } finally {
    await blocker.end();
  }
});
