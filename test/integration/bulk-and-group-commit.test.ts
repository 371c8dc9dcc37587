import { TIMESTAMP_RULE } from '../../src/validate/limits.js';
import { API, startTestApp, tableCounts, type TestApp } from '../support/app-harness.js';

const prediction = (booking_id: number, extra: Record<string, unknown> = {}) => ({
  booking_id,
  predicted_delay_minutes: 4 + (booking_id % 5),
  confidence: 0.75,
  risk_level: 'medium',
  model_version: 'bulk',
  ...extra,
});

describe('NDJSON bulk load and group commit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const bulk = (body: string) =>
    t.raw({
      method: 'POST',
      path: `${API}/predictions/bulk`,
      body,
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${t.tokens.ingest}` },
    });

  it('stores valid lines, reports bad ones by line, and is idempotent by request_id', async () => {
    const lines = Array.from({ length: 6000 }, (_, i) => JSON.stringify(prediction(10_000 + i, { request_id: `bulk-${i}` })));
    lines[2] = '{"booking_id": 1,';
    lines[4] = JSON.stringify(prediction(5, { confidence: 7, extra_field: 1 }));
    lines[6] = JSON.stringify(prediction(6, { created_at: '2016-12-31T23:59:60Z' })); // a leap second: no JavaScript Date holds it
    // refused as on the JSON routes: a client merging the stored factors would pollute its prototypes
    lines[8] = JSON.stringify(prediction(8)).replace(/}$/, ',"contributing_factors":{"__proto__":1}}');
    const body = lines.join('\n') + '\n';
    const before = await tableCounts(t.db);

    const first = await bulk(body);
    expect(first.statusCode).toBe(200);
    const report = first.json();
    const byLineAndField = (a: { line: number; field: string }, b: { line: number; field: string }) => a.line - b.line || a.field.localeCompare(b.field);
    expect({ ...report, errors: [...report.errors].sort(byLineAndField) }).toEqual({
      accepted: 5996,
      duplicates: 0,
      rejected: 4,
      errors: [
        { line: 3, field: '(line)', message: 'is not valid JSON' },
        { line: 5, field: 'confidence', message: 'must be <= 1' },
        { line: 5, field: 'extra_field', message: 'is not a known field' },
        { line: 7, field: 'created_at', message: TIMESTAMP_RULE },
        { line: 9, field: '__proto__', message: 'is not an allowed field name' },
        { line: 9, field: 'constructor', message: 'may not contain "prototype"' },
      ],
    });
    const after = await tableCounts(t.db);
    expect(after.predictions - before.predictions).toBe(5996);
    expect(after.rollupPredictions - before.rollupPredictions).toBe(5996);

    const again = await bulk(body);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 5996, rejected: 4 });
    expect((await tableCounts(t.db)).rollupPredictions).toBe(after.rollupPredictions);
  });

  it('joins actuals that arrived before the bulk load with the seed\'s labels', async () => {
    expect((await t.post(`${API}/actuals`, { booking_id: 777_001, actual_delay_minutes: 9.2 })).json()).toEqual({ updated: 0, pending: 1 });
    const rows = [prediction(777_001, { predicted_delay_minutes: 8.5 }), ...Array.from({ length: 600 }, (_, i) => prediction(778_000 + i))];
    expect((await bulk(rows.map((r) => JSON.stringify(r)).join('\n'))).json()).toMatchObject({ accepted: 601 });
    const [row] = await t.db.sql`select prediction_error, is_accurate from ml_prediction where booking_id = 777001`;
    expect(row!.prediction_error).toBeCloseTo(0.7, 12);
    expect(row!.is_accurate).toBe(true);
  });

  it('takes the media type in any case, as HTTP says', async () => {
    const res = await t.raw({
      method: 'POST',
      path: `${API}/predictions/bulk`,
      body: JSON.stringify(prediction(70_001)) + '\n',
      headers: { 'content-type': 'Application/X-NDJSON; charset=utf-8', authorization: `Bearer ${t.tokens.ingest}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 1, rejected: 0 });
  });

  it('refuses other content types and empty streams', async () => {
    const json = await t.raw({
      method: 'POST',
      path: `${API}/predictions/bulk`,
      body: JSON.stringify(prediction(1)),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokens.ingest}` },
    });
    expect(json.statusCode).toBe(415);
    expect((await bulk('\n\n')).statusCode).toBe(400);
  });

  it('answers each of many concurrent single POSTs after commit, storing each once', async () => {
    const before = await tableCounts(t.db);
    const ids = Array.from({ length: 200 }, (_, i) => 900_000 + i);
    const replies = await Promise.all(
      [...ids, ...ids.slice(0, 50)].map((id) => t.post(`${API}/predictions`, prediction(id, { request_id: `single-${id}` }))),
    );
    expect(replies.every((r) => r.statusCode === 201)).toBe(true);
    const accepted = replies.reduce((sum, r) => sum + r.json().accepted, 0);
    const duplicates = replies.reduce((sum, r) => sum + r.json().duplicates, 0);
    expect([accepted, duplicates]).toEqual([200, 50]);
    const after = await tableCounts(t.db);
    expect(after.predictions - before.predictions).toBe(200);
    expect(after.rollupPredictions - before.rollupPredictions).toBe(200);
  });

  it('answers each of many concurrent single actuals with its own counts, labelling each prediction once, in a few transactions', async () => {
    // 100 bookings predicted once, 50 twice, 30 not yet; the first 40 actuals are sent twice.
    const once = Array.from({ length: 100 }, (_, i) => 950_000 + i);
    const twice = Array.from({ length: 50 }, (_, i) => 951_000 + i);
    const unpredicted = Array.from({ length: 30 }, (_, i) => 952_000 + i);
    const stored = await t.post(`${API}/predictions`, [...once, ...twice, ...twice].map((id) => prediction(id)));
    expect(stored.statusCode).toBe(201);
    const before = await tableCounts(t.db);
    const actualOf = (booking_id: number) => ({ booking_id, actual_delay_minutes: 2 + (booking_id % 7) });
    const sent = [...once, ...twice, ...unpredicted, ...once.slice(0, 40)];
    const transactionId = async () => (await t.db.sql<{ xid: number }[]>`select txid_current()::float8 as xid`)[0]!.xid;
    const xidBefore = await transactionId();
    const replies = await Promise.all(sent.map((id) => t.post(`${API}/actuals`, actualOf(id))));
    const xidAfter = await transactionId();

    expect(replies.map((r) => r.statusCode).every((status) => status === 200)).toBe(true);
    const expected = (id: number) => (twice.includes(id) ? { updated: 2, pending: 0 } : unpredicted.includes(id) ? { updated: 0, pending: 1 } : { updated: 1, pending: 0 });
    expect(replies.map((r) => r.json())).toEqual(sent.map(expected));
    const after = await tableCounts(t.db);
    expect(after.actuals - before.actuals).toBe(once.length + twice.length + unpredicted.length);
    expect(after.rollupLabelled - before.rollupLabelled).toBe(once.length + 2 * twice.length);
    const [labels] = await t.db.sql<{ labelled: number; wrong: number }[]>`
      select count(*) filter (where actual_delay_minutes is not null)::float8 as labelled,
             count(*) filter (where actual_delay_minutes <> 2 + booking_id % 7)::float8 as wrong
      from ml_prediction where booking_id between 950000 and 952999`;
    expect(labels).toEqual({ labelled: once.length + 2 * twice.length, wrong: 0 });
    // Group commit: the requests that arrive while one transaction runs share the next one.
    expect(xidAfter - xidBefore).toBeLessThan(sent.length / 2);
  });
});
