import { applyRetention } from '../../src/store/partitions.js';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';

const DAY_MS = 86_400_000;
const prediction = (booking_id: number, created_at: string, request_id: string) => ({
  booking_id,
  predicted_delay_minutes: 6,
  confidence: 0.8,
  risk_level: 'low',
  model_version: 'retained',
  created_at,
  request_id,
});

describe('retention by monthly partitions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('drops whole months older than the retention, keeps newer rows and every rollup', async () => {
    const now = new Date();
    const old = new Date(now.getTime() - 120 * DAY_MS).toISOString();
    const recent = new Date(now.getTime() - 2 * DAY_MS).toISOString();
    const rows = [prediction(1, old, 'old-1'), prediction(2, old, 'old-2'), prediction(3, recent, 'recent-3')];
    expect((await t.post(`${API}/predictions`, rows)).json()).toEqual({ accepted: 3, duplicates: 0 });
    await t.post(`${API}/actuals`, [{ booking_id: 1, actual_delay_minutes: 7 }, { booking_id: 3, actual_delay_minutes: 9 }]);
    const metricsBefore = (await t.get(`${API}/metrics?hours=${24 * 150}&model_version=retained`)).json();

    const result = await applyRetention(t.db.sql, 60, now);

    const oldMonth = `ml_prediction_p${old.slice(0, 4)}${old.slice(5, 7)}`;
    expect(result.droppedPartitions).toContain(oldMonth);
    const left = await t.db.sql<{ booking_id: number }[]>`select booking_id from ml_prediction where model_version = 'retained' order by booking_id`;
    expect(left.map((r) => r.booking_id)).toEqual([3]);
    expect(result.forgottenRequestIds).toBe(2);
    // Rollups are kept: the metrics of the whole period do not change.
    expect((await t.get(`${API}/metrics?hours=${24 * 150}&model_version=retained`)).json()).toEqual({
      ...metricsBefore,
      from: expect.any(String),
      to: expect.any(String),
    });
    // The month can be written again (a late backfill): its partition comes back on demand.
    expect((await t.post(`${API}/predictions`, [prediction(4, old, 'old-4')])).statusCode).toBe(201);
  });

  it('drops nothing when every partition is younger than the retention', async () => {
    const result = await applyRetention(t.db.sql, 10_000);
    expect(result).toEqual({ droppedPartitions: [], forgottenRequestIds: 0, forgottenActuals: 0 });
  });
});

describe('writes under a retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ retentionDays: 30 });
  });
  afterAll(() => t.close());

  // Such a row would be dropped within the hour, and one sent again after its request id was
  // forgotten would count twice in the rollups, which stay.
  it('refuses predictions older than the retention, by row and by NDJSON line, and stores the rest', async () => {
    const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
    const old = await t.post(`${API}/predictions`, [prediction(1, daysAgo(20), 'kept-1'), prediction(2, daysAgo(31), 'too-old-1')]);
    expect(old.statusCode).toBe(400);
    expect(old.json().details).toEqual([{ index: 1, field: 'created_at', message: expect.stringContaining('MLMON_RETENTION_DAYS=30') }]);

    expect((await t.post(`${API}/predictions`, prediction(3, daysAgo(29), 'kept-2'))).json()).toEqual({ accepted: 1, duplicates: 0 });
    const bulk = await t.raw({
      method: 'POST',
      path: `${API}/predictions/bulk`,
      body: [prediction(4, daysAgo(40), 'too-old-2'), prediction(5, daysAgo(1), 'kept-3')].map((p) => JSON.stringify(p)).join('\n'),
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${t.tokens.ingest}` },
    });
    expect(bulk.json()).toMatchObject({ accepted: 1, rejected: 1, errors: [{ line: 1, field: 'created_at' }] });
    const [row] = await t.db.sql<{ stored: number }[]>`select count(*)::int as stored from ml_prediction`;
    expect(row?.stored).toBe(2);
  });
});
