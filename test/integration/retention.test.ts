import { applyRetention, ensurePartitions } from '../../src/store/partitions.js';
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
    expect(result).toEqual({ droppedPartitions: [], forgottenRequestIds: 0, forgottenActuals: 0, forgottenFailureMinutes: 0 });
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

// A fixed `now` and rows in months long past: the cut falls exactly where each case needs it,
// whatever the day the suite runs on.
describe('retention cut-off, at fixed dates', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const retainedIds = async () =>
    (await t.db.sql<{ booking_id: number }[]>`select booking_id from ml_prediction where model_version = 'retained' order by booking_id`).map((r) => r.booking_id);

  it('drops a month that ends exactly at the cut-off, never one that starts there, and forgets by whole months', async () => {
    const rows = [
      prediction(1, '2020-01-15T12:00:00Z', 'jan-15'),
      // The first instant of the month the cut-off starts: it must survive the first pass.
      prediction(2, '2020-02-01T00:00:00Z', 'feb-01'),
      prediction(3, '2020-02-20T12:00:00Z', 'feb-20'),
      // After the month start but before the second pass's cut-off: its partition is kept, so is its request id.
      prediction(4, '2020-03-05T12:00:00Z', 'mar-05'),
    ];
    expect((await t.post(`${API}/predictions`, rows)).json()).toEqual({ accepted: 4, duplicates: 0 });
    await t.post(`${API}/actuals`, [{ booking_id: 1, actual_delay_minutes: 7 }, { booking_id: 4, actual_delay_minutes: 8 }]);
    // Actuals are stamped by the database; back-date them to their predictions' months.
    await t.db.sql`update ml_actual set updated_at = '2020-01-20T00:00:00Z' where booking_id = 1`;
    await t.db.sql`update ml_actual set updated_at = '2020-03-06T00:00:00Z' where booking_id = 4`;

    // Failures reported in January and in February (only the last 24 h are ever read).
    await t.db.sql`insert into ml_request_failure_minute (bucket, model_version, failures) values ('2020-01-31T23:59:00Z', 'retained', 2), ('2020-02-01T00:00:00Z', 'retained', 1)`;

    // 2020-03-02 minus 30 days is 2020-02-01T00:00Z (a leap year): January ends exactly there.
    expect(await applyRetention(t.db.sql, 30, new Date('2020-03-02T00:00:00Z'))).toEqual({
      droppedPartitions: ['ml_prediction_p202001'],
      forgottenRequestIds: 1,
      forgottenActuals: 1,
      forgottenFailureMinutes: 1,
    });
    expect(await retainedIds()).toEqual([2, 3, 4]);

    // A late backfill brings an older month back; the next pass drops it with February, and
    // forgets up to the end of the newest month it dropped.
    expect((await t.post(`${API}/predictions`, [prediction(5, '2019-12-10T12:00:00Z', 'dec-10')])).statusCode).toBe(201);
    // Cut-off 2020-03-15: inside March, whose partition stays whole.
    expect(await applyRetention(t.db.sql, 30, new Date('2020-04-14T00:00:00Z'))).toEqual({
      droppedPartitions: ['ml_prediction_p201912', 'ml_prediction_p202002'],
      forgottenRequestIds: 3,
      forgottenActuals: 0,
      forgottenFailureMinutes: 1,
    });
    expect(await retainedIds()).toEqual([4]);
    const ids = await t.db.sql<{ request_id: string }[]>`select request_id from ml_request_id order by request_id`;
    expect(ids.map((r) => r.request_id)).toEqual(['mar-05']);
  });

  // Rows stamped by the database at a month's edge land in the next month: its partition must
  // already exist. Read before and after the call, so a month turning meanwhile cannot fail it.
  it("ensuring partitions also creates next month's", async () => {
    const nextMonthPartition = (date: Date) => {
      const start = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)).toISOString();
      return `ml_prediction_p${start.slice(0, 4)}${start.slice(5, 7)}`;
    };
    const before = nextMonthPartition(new Date());
    await ensurePartitions(t.db.sql, []);
    const after = nextMonthPartition(new Date());
    const partitions = await t.db.sql<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'ml_prediction'::regclass`;
    const names = partitions.map((p) => p.name);
    expect([before, after].some((name) => names.includes(name))).toBe(true);
  });
});
