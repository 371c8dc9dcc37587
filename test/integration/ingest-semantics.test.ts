/**
 * Write semantics on real PostgreSQL: idempotent retries (also concurrent), all-or-nothing
 * batches, actuals before predictions, predictions and actuals of the same bookings racing,
 * paging over sub-millisecond timestamps, and one client's bad request not failing another's.
 */
import { API, startTestApp, tableCounts, type TestApp } from '../support/app-harness.js';
import { closeTo, exactSum, inOpenClosed, isoFromMicros, metricsMismatches, parsePrometheus, samplesOf, seededRandom, testSeed, twoPass, type RawPrediction } from '../support/reference.js';
import { bodyOf, expectStatus, inParallel, MINUTE_US, shuffle } from '../support/generate.js';

let t: TestApp;
let random: () => number;
beforeAll(async () => {
  random = seededRandom(testSeed('ingest-semantics'));
  t = await startTestApp();
});
afterAll(() => t?.close());

const base = (booking_id: number, extra: Record<string, unknown> = {}) => ({
  booking_id,
  predicted_delay_minutes: 5,
  confidence: 0.7,
  risk_level: 'low',
  ...extra,
});

async function scrape() {
  return parsePrometheus((await t.get('/metrics', null)).body);
}
const gauge = (samples: ReturnType<typeof parsePrometheus>, name: string, labels: Record<string, string>) => samplesOf(samples, name, labels)[0]?.value;

describe('idempotency by request_id', () => {
  it('the same request twice stores once and counts once (rows, rollup, /metrics)', async () => {
    const body = [base(1, { request_id: 'a-1', model_version: 'idem' }), base(2, { request_id: 'a-2', model_version: 'idem' })];
    expect((await t.post(`${API}/predictions`, body)).json()).toEqual({ accepted: 2, duplicates: 0 });
    expect((await t.post(`${API}/predictions`, body)).json()).toEqual({ accepted: 0, duplicates: 2 });
    // a retry of one of them inside a new batch
    expect((await t.post(`${API}/predictions`, [body[0], base(3, { request_id: 'a-3', model_version: 'idem' })])).json()).toEqual({ accepted: 1, duplicates: 1 });
    const [db] = await t.db.sql`select count(*)::int as n from ml_prediction where model_version = 'idem'`;
    expect(db!.n).toBe(3);
    const [rollup] = await t.db.sql`select sum(predictions)::int as n from ml_rollup_minute where model_version = 'idem'`;
    expect(rollup!.n).toBe(3);
    const samples = await scrape();
    expect(gauge(samples, 'ml_predictions_ingested_total', { model_version: 'idem' })).toBe(3);
    expect(gauge(samples, 'ml_prediction_window_predictions', { window: '1h', model_version: 'idem' })).toBe(3);
  });

  it('the same request_id twice inside one batch stores the first', async () => {
    const res = await t.post(`${API}/predictions`, [
      base(10, { request_id: 'dup-in-batch', model_version: 'idem-batch', predicted_delay_minutes: 1 }),
      base(11, { request_id: 'dup-in-batch', model_version: 'idem-batch', predicted_delay_minutes: 2 }),
    ]);
    expect(res.json()).toEqual({ accepted: 1, duplicates: 1 });
    const rows = await t.db.sql`select booking_id from ml_prediction where request_id = 'dup-in-batch'`;
    expect(rows.map((r) => r.booking_id)).toEqual([10]);
  });

  it('the same batch sent 16 times concurrently: stored once, counted once', async () => {
    const before = await tableCounts(t.db);
    const ingestedBefore = gauge(await scrape(), 'ml_predictions_ingested_total', { model_version: 'idem-race' }) ?? 0;
    const batch = Array.from({ length: 50 }, (_, i) => base(1000 + i, { request_id: `race-${i}`, model_version: 'idem-race' }));
    const results = await Promise.all(Array.from({ length: 16 }, () => t.post(`${API}/predictions`, batch)));
    for (const r of results) expectStatus(r, 201, 'concurrent retry');
    const accepted = results.reduce((s, r) => s + r.json().accepted, 0);
    const duplicates = results.reduce((s, r) => s + r.json().duplicates, 0);
    expect({ accepted, duplicates }).toEqual({ accepted: 50, duplicates: 15 * 50 });
    const after = await tableCounts(t.db);
    expect(after.predictions - before.predictions).toBe(50);
    expect(after.rollupPredictions - before.rollupPredictions).toBe(50);
    const samples = await scrape();
    expect(gauge(samples, 'ml_predictions_ingested_total', { model_version: 'idem-race' })! - ingestedBefore).toBe(50);
    expect(gauge(samples, 'ml_prediction_window_predictions', { window: '1h', model_version: 'idem-race' })).toBe(50);
  });

  it('retries racing actuals: a duplicate that brings a pending actual along does not label twice', async () => {
    await t.post(`${API}/actuals`, { booking_id: 5000, actual_delay_minutes: 9 });
    const body = base(5000, { request_id: 'pending-retry', model_version: 'idem-pending', predicted_delay_minutes: 1 });
    const results = await Promise.all(Array.from({ length: 8 }, () => t.post(`${API}/predictions`, body)));
    expect(results.reduce((s, r) => s + r.json().accepted, 0)).toBe(1);
    const [rollup] = await t.db.sql`select sum(predictions)::int as p, sum(labelled)::int as l, sum(error_abs_sum) as e from ml_rollup_minute where model_version = 'idem-pending'`;
    expect(rollup).toEqual({ p: 1, l: 1, e: 8 });
  });
});

describe('all-or-nothing batches', () => {
  it('one bad row: 400 listing its index and field, nothing stored', async () => {
    const before = await tableCounts(t.db);
    const batch = Array.from({ length: 20 }, (_, i) => base(2000 + i));
    batch[13] = base(2013, { confidence: 1.01 });
    const res = await t.post(`${API}/predictions`, batch);
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([{ index: 13, field: 'confidence', message: expect.any(String) }]);
    expect(res.json().message).toContain('[13]');
    expect(res.json().message).toContain('confidence');
    expect(await tableCounts(t.db)).toEqual(before);
  });

  it('several bad rows: each listed with index and field', async () => {
    const batch = Array.from({ length: 10 }, (_, i) => base(2100 + i)) as Record<string, unknown>[];
    batch[2] = { ...batch[2], risk_level: 'x'.repeat(21) };
    batch[5] = { ...batch[5], colour: 'red' };
    delete batch[7]!.booking_id;
    const res = await t.post(`${API}/predictions`, batch);
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 2, field: 'risk_level' }),
        expect.objectContaining({ index: 5, field: 'colour' }),
        expect.objectContaining({ index: 7, field: 'booking_id' }),
      ]),
    );
  });

  it('a created_at in the future in row 4: 400 naming row 4, nothing stored', async () => {
    const before = await tableCounts(t.db);
    const batch = Array.from({ length: 6 }, (_, i) => base(2200 + i));
    batch[4] = base(2204, { created_at: new Date(Date.now() + 10 * 60_000).toISOString() });
    const res = await t.post(`${API}/predictions`, batch);
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([{ index: 4, field: 'created_at', message: expect.any(String) }]);
    expect(await tableCounts(t.db)).toEqual(before);
    // within the 5-minute skew is fine
    expect((await t.post(`${API}/predictions`, base(2299, { created_at: new Date(Date.now() + 60_000).toISOString() }))).statusCode).toBe(201);
  });

  it('a batch of 10,000 is accepted whole; 10,001 is refused whole', async () => {
    const before = await tableCounts(t.db);
    const big = Array.from({ length: 10_001 }, (_, i) => base(3_000_000 + i, { model_version: 'big' }));
    const tooMany = await t.post(`${API}/predictions`, big);
    expect(tooMany.statusCode).toBe(400);
    expect(await tableCounts(t.db)).toEqual(before);
    const ok = await t.post(`${API}/predictions`, big.slice(0, 10_000));
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ accepted: 10_000, duplicates: 0 });
    expect((await tableCounts(t.db)).predictions - before.predictions).toBe(10_000);
  });

  it('an array far over the limit is refused at once, as one problem, before its items are validated', async () => {
    // 200,000 empty objects: validated item by item, each would add its missing fields (seconds, gigabytes at a million)
    for (const route of ['predictions', 'actuals']) {
      const res = await t.post(`${API}/${route}`, Array.from({ length: 200_000 }, () => ({})));
      expect([route, res.statusCode, res.json().message, res.json().details]).toEqual([
        route,
        400,
        'invalid body: body must NOT have more than 10000 items',
        [{ field: '(body)', message: 'must NOT have more than 10000 items' }],
      ]);
    }
  });

  it('a bad actual row: 400 with index and field, no label changed', async () => {
    await t.post(`${API}/predictions`, base(2300, { model_version: 'actual-batch' }));
    const before = await tableCounts(t.db);
    const res = await t.post(`${API}/actuals`, [{ booking_id: 2300, actual_delay_minutes: 3 }, { booking_id: 2301, actual_delay_minutes: '3' }]);
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([{ index: 1, field: 'actual_delay_minutes', message: expect.any(String) }]);
    expect(await tableCounts(t.db)).toEqual(before);
    const [row] = await t.db.sql`select actual_delay_minutes from ml_prediction where booking_id = 2300`;
    expect(row!.actual_delay_minutes).toBeNull();
  });
});

describe('predictions and actuals of the same bookings racing', () => {
  it('many parallel requests in random order: every label joined once, nothing lost or doubled', async () => {
    const VERSION = 'race';
    const nowUs = Date.now() * 1000;
    const rows: RawPrediction[] = [];
    const actuals = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const bookingId = 7_000_000 + i;
      actuals.set(bookingId, Math.round(random() * 2000) / 100);
      const copies = random() < 0.2 ? 2 : 1; // some bookings predicted twice
      for (let c = 0; c < copies; c++) {
        rows.push({
          bookingId,
          createdUs: nowUs - 5 * MINUTE_US - Math.floor(random() * 30 * MINUTE_US),
          modelVersion: VERSION,
          predicted: Math.round(random() * 2000) / 100,
          confidence: random(),
          latencyMs: 100,
          actual: actuals.get(bookingId)!,
        });
      }
    }
    const before = await tableCounts(t.db);
    const tasks: (() => Promise<void>)[] = [];
    for (const r of rows) tasks.push(async () => expectStatus(await t.post(`${API}/predictions`, bodyOf(r)), 201, 'racing prediction'));
    for (const [booking_id, actual_delay_minutes] of actuals) {
      const send = async () => expectStatus(await t.post(`${API}/actuals`, { booking_id, actual_delay_minutes }), 200, 'racing actual');
      tasks.push(send);
      if (random() < 0.2) tasks.push(send); // the same actual twice
    }
    await inParallel(shuffle(tasks, random), 32);

    const stored = await t.db.sql<{ booking_id: number; actual_delay_minutes: number | null; prediction_error: number | null }[]>`
      select booking_id, actual_delay_minutes, prediction_error from ml_prediction where model_version = ${VERSION}`;
    expect(stored).toHaveLength(rows.length);
    const unlabelled = stored.filter((s) => s.actual_delay_minutes !== actuals.get(s.booking_id));
    expect(unlabelled).toEqual([]);
    const after = await tableCounts(t.db);
    expect(after.actuals - before.actuals).toBe(actuals.size);
    const [rollup] = await t.db.sql<{ p: number; l: number; e: number }[]>`
      select sum(predictions)::int as p, sum(labelled)::int as l, sum(error_abs_sum) as e from ml_rollup_minute where model_version = ${VERSION}`;
    expect(rollup!.p).toBe(rows.length);
    expect(rollup!.l).toBe(rows.length);
    expect(closeTo(rollup!.e, exactSum(rows.map((r) => Math.abs(r.predicted - r.actual!))), 1e-9)).toBe(true);
    const m = (await t.get(`${API}/metrics?hours=2&model_version=${VERSION}`)).json();
    const expected = twoPass(inOpenClosed(rows, Date.parse(m.from) * 1000, Date.parse(m.to) * 1000), t.rules);
    expect(metricsMismatches(m, expected, 'race')).toEqual([]);
    const samples = await scrape();
    expect(gauge(samples, 'ml_predictions_ingested_total', { model_version: VERSION })).toBe(rows.length);
    expect(gauge(samples, 'ml_prediction_window_labeled', { window: '1h', model_version: VERSION })).toBe(rows.length);
  }, 60_000);
});

describe('paging and isolation', () => {
  it('GET /predictions pages through predictions created within the same millisecond without losing any', async () => {
    const msUs = (Date.now() - 3_600_000) * 1000;
    const batch = Array.from({ length: 12 }, (_, i) => base(8000 + i, { model_version: 'sub-ms', created_at: isoFromMicros(msUs + 100 + i * 50) }));
    expectStatus(await t.post(`${API}/predictions`, shuffle(batch, random)), 201, 'sub-ms batch');
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await t.get(`${API}/predictions?model_version=sub-ms&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expectStatus(res, 200, 'page');
      seen.push(...res.json().map((p: { booking_id: number }) => p.booking_id));
      cursor = res.headers['x-next-cursor'] as string | undefined;
      if (!cursor) break;
    }
    // newest first: booking 8011 (latest µs) down to 8000
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => 8011 - i));
  });

  it('GET /predictions pages through backfilled predictions from before 1970', async () => {
    const batch = [
      base(8100, { model_version: 'old', created_at: '1969-12-31T00:00:00Z' }),
      base(8101, { model_version: 'old', created_at: '1969-12-30T00:00:00Z' }),
      base(8102, { model_version: 'old', created_at: '1969-12-29T00:00:00Z' }),
    ];
    expectStatus(await t.post(`${API}/predictions`, batch), 201, 'pre-1970 batch');
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await t.get(`${API}/predictions?model_version=old&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      if (res.statusCode !== 200) break;
      seen.push(...res.json().map((p: { booking_id: number }) => p.booking_id));
      cursor = res.headers['x-next-cursor'] as string | undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual([8100, 8101, 8102]);
  });

  it('a valid request is never failed by another client\'s bad request sent at the same time', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 3; round++) {
      const good = Array.from({ length: 24 }, (_, i) => () => t.post(`${API}/predictions`, base(9000 + round * 100 + i, { model_version: 'isolation' })));
      // A body the validator accepts but PostgreSQL refuses (year 0 does not exist there).
      const poison = () => t.post(`${API}/predictions`, base(9999, { model_version: 'isolation', created_at: '0000-06-01T00:00:00Z' }));
      const results = await Promise.all([...good.slice(0, 12).map((f) => f()), poison(), ...good.slice(12).map((f) => f())]);
      results.forEach((r, i) => {
        if (i !== 12 && r.statusCode !== 201) failures.push(`round ${round}, good request ${i}: ${r.statusCode} ${r.body.slice(0, 120)}`);
      });
    }
    expect({ failedValidRequests: failures.length, of: 72, first: failures.slice(0, 3) }).toEqual({ failedValidRequests: 0, of: 72, first: [] });
  });
});
