/**
 * Writers must lock rollup rows in one order: the prediction statement sorts them in SQL (the
 * database collation), the actuals' passes in JavaScript (UTF-16 code units). For two versions
 * whose order differs between the two, an actual and a prediction touching the same day row
 * deadlock. A third connection holding one row only forces the interleaving that load produces.
 */
import postgres from 'postgres';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import { untilSessionsWaitForLocks } from '../support/database.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

it('an actual and a prediction of two versions in the same day do not deadlock', async () => {
  // In the database's order 'ＡＢＣ' (U+FF21) < '😀' (U+1F600); in JavaScript's '\ud83d...' < '\uff21'.
  const [X, Y] = ['ＡＢＣ', '😀'];
  const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000; // yesterday, UTC
  const at = (hours: number) => new Date(day + hours * 3_600_000).toISOString();
  const p = (booking_id: number, model_version: string, created_at: string) =>
    ({ booking_id, model_version, created_at, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low' });
  expect((await t.post(`${API}/predictions`, [p(1, X, at(1)), p(2, Y, at(1))])).statusCode).toBe(201);

  const blocker = postgres(t.db.url, { max: 1, onnotice: () => {} });
  try {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holding = blocker.begin(async (tx) => {
      await tx`select 1 from ml_rollup_day where model_version = ${Y} for update`;
      await released;
    });
    // The actuals' pass reaches the day rows and waits for Y's (holding X's first if X comes first).
    const actual = t.post(`${API}/actuals`, [{ booking_id: 1, actual_delay_minutes: 6 }, { booking_id: 2, actual_delay_minutes: 7 }]);
    await untilSessionsWaitForLocks(t.db, 1);
    // The prediction waits too: in one lock order, behind the actual for X's row; in opposite
    // orders, for Y's while holding X's, which the actual wants next: a deadlock once Y is released.
    const prediction = t.post(`${API}/predictions`, [p(3, X, at(5)), p(4, Y, at(5))]);
    await untilSessionsWaitForLocks(t.db, 2);
    release();
    await holding;
    const [a, b] = await Promise.all([actual, prediction]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 201]);
  } finally {
    await blocker.end();
  }
});
