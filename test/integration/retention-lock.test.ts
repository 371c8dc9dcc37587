/**
 * Retention drops a month's partition, which locks ml_prediction ACCESS EXCLUSIVE until commit:
 * the forgetting of that month's request ids and actuals must not run under that lock, or every
 * write and window read waits for it.
 */
import { applyRetention } from '../../src/store/partitions.js';
import { storePredictions } from '../../src/store/predictions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const rules = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };

it('forgets a month of request ids before it takes the partition drop\'s exclusive lock', async () => {
  const now = new Date();
  const old = new Date(now.getTime() - 120 * 86_400_000);
  await storePredictions(db.sql, [{ booking_id: 1, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low', created_at: old.toISOString() }], rules);
  await storePredictions(db.sql, [{ booking_id: 2, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low' }], rules);
  // A month of request ids to forget.
  await db.sql`insert into ml_request_id select 'old-' || g, ${old} from generate_series(1, 1500000) g`;
  await db.sql`vacuum analyze ml_request_id`;

  // While the request ids are forgotten, no partition of ml_prediction may be locked exclusively
  // (the drop's lock), or every write and window read would wait for the whole delete.
  let finished = false;
  const retention = applyRetention(db.sql, 60, now).finally(() => (finished = true));
  let forgetting = 0;
  let exclusiveWhileForgetting = 0;
  while (!finished) {
    const [row] = await db.sql<{ forgetting: boolean; exclusive: boolean }[]>`
      select count(*) > 0 as forgetting,
             coalesce(bool_or(exists (
               select 1 from pg_locks l join pg_class c on c.oid = l.relation
               where l.pid = a.pid and l.mode = 'AccessExclusiveLock' and c.relname like 'ml\_prediction%')), false) as exclusive
      from pg_stat_activity a
      where a.state = 'active' and a.query like 'delete from ml_request_id%' and a.datname = current_database()`;
    if (row!.forgetting) forgetting++;
    if (row!.exclusive) exclusiveWhileForgetting++;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const result = await retention;
  expect(result.forgottenRequestIds).toBe(1_500_000);
  expect(result.droppedPartitions).toHaveLength(1);
  expect(forgetting).toBeGreaterThan(0); // the delete was seen running, so the check below means something
  expect(exclusiveWhileForgetting).toBe(0);
}, 120_000);
