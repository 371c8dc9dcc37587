/**
 * Reads run on a pool of their own with a statement timeout (MLMON_READ_TIMEOUT_SECONDS): a read
 * that would walk every stored prediction is cancelled with a 504 saying how to narrow it, and
 * it cannot take the writes' connections meanwhile.
 */
import { API, startTestApp, type TestApp } from '../support/app-harness.js';

const ROWS = 300_000;

describe('the read pool statement timeout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ readTimeoutSeconds: 0.01 });
    // The first write creates this month's partition; the rest are stored at the same instant.
    expect((await t.post(`${API}/predictions`, { booking_id: 1, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low', model_version: 'v1' })).statusCode).toBe(201);
    await t.db.sql`
      insert into ml_prediction (booking_id, predicted_delay_minutes, confidence, risk_level, model_version, created_at)
      select g, 1, 0.5, 'low', 'v1', now() from generate_series(2, ${ROWS}) as g`;
    await t.db.sql`analyze ml_prediction`;
  }, 60_000);
  afterAll(() => t?.close());

  it('cancels a read that walks every row, with a 504 that says how to narrow it', async () => {
    // No stored version matches: newest first, every row is read and none kept.
    const res = await t.get(`${API}/predictions?limit=1&model_version=none-such`);
    expect([res.statusCode, res.json().error]).toEqual([504, 'Gateway Timeout']);
    expect(res.json().message).toMatch(/^the database did not finish this read within MLMON_READ_TIMEOUT_SECONDS; narrow it/);
  });

  it('leaves the writes alone: they have their own pool, without the limit', async () => {
    const res = await t.post(`${API}/predictions`, Array.from({ length: 5_000 }, (_, i) => ({ booking_id: ROWS + i, predicted_delay_minutes: 2, confidence: 0.5, risk_level: 'low' })));
    expect(res.statusCode).toBe(201);
  });
});
