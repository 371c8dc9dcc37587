/**
 * Two writes whose request ids overlap in different orders (a batch retried reordered, two bulk
 * loads of overlapping files, two replicas) must not deadlock on claiming them. A third
 * connection holding one claim only forces the interleaving.
 */
import postgres from 'postgres';
import { storePredictions } from '../../src/store/predictions.js';
import { createTestDatabase, untilSessionsWaitForLocks, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const rules = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };
const p = (booking_id: number, request_id: string) =>
  ({ booking_id, request_id, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low', model_version: 'ids' });

it('overlapping request ids in opposite orders are claimed without a deadlock', async () => {
  const blocker = postgres(db.url, { max: 1, onnotice: () => {} });
  const other = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await storePredictions(db.sql, [p(9, 'warm-up')], rules); // partitions exist
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let claimed!: () => void;
    const xClaimed = new Promise<void>((resolve) => (claimed = resolve));
    const holding = blocker.begin(async (tx) => {
      await tx`insert into ml_request_id values ('x', now())`;
      claimed();
      await released;
      throw new Error('roll back');
    }).catch(() => {});
    await xClaimed;
    const first = storePredictions(db.sql, [p(1, 'r1'), p(2, 'x'), p(3, 'r2')], rules); // waits for x (and, claimed in input order, holds r1)
    await untilSessionsWaitForLocks(db, 1);
    const second = storePredictions(other as never, [p(4, 'r2'), p(5, 'r1')], rules); // in input order: holds r2, waits for r1
    await untilSessionsWaitForLocks(db, 2);
    release();
    await holding;
    const results = await Promise.allSettled([first, second]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from ml_prediction where request_id in ('r1', 'r2')`;
    expect(row?.n).toBe(2);
  } finally {
    await blocker.end();
    await other.end();
  }
});
