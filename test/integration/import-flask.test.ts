/**
 * `mlmon import-flask` from a database shaped like the Flask monitor's (its SQLAlchemy model in
 * ../shared/peers/seed-flask/app.py: naive UTC timestamps, factors as JSON text) into the real
 * service over HTTP: every valid row stored once with its actual, the refused ones named by id,
 * and the metrics over the imported history those of the rows.
 */
import { importFlask, MORE_PROBLEMS_NOT_LISTED, type ImportReport, type RefusedRow } from '../../src/cli/import-flask.js';
import { MAX_LISTED_LINE_PROBLEMS } from '../../src/validate/ndjson.js';
import { API, startTestApp, tableCounts, type TestApp } from '../support/app-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { FLASK_TABLE } from '../support/flask.js';
import { twoPass, type RawPrediction } from '../support/reference.js';

const ROWS = 2_345; // three chunks of 1,000, the last one partial
const HOUR_MS = 3_600_000;
const NOW_MS = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
/** Naive UTC, as the Flask app's datetime.utcnow() wrote it. */
const naiveUtc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

interface FlaskSeed extends RawPrediction {
  requestId: string | null;
  factors: string | null;
  riskLevel: string;
}

function flaskSeeds(): FlaskSeed[] {
  return Array.from({ length: ROWS }, (_, i) => {
    const predicted = (i * 7) % 23;
    return {
      bookingId: 90_000 + i,
      // the last ten days, oldest first, a few rows per hour
      createdUs: (NOW_MS - 240 * HOUR_MS + Math.floor((i * 240 * HOUR_MS) / ROWS) + 1_234) * 1000,
      modelVersion: i % 3 === 0 ? 'v1' : 'v2',
      predicted,
      confidence: 0.5 + (i % 50) / 100,
      latencyMs: i % 10 === 0 ? null : 40 + (i % 90),
      actual: i % 4 === 0 ? null : predicted + ((i * 13) % 17) - 8,
      requestId: i % 5 === 0 ? null : `req-${i}`,
      factors: i % 2 === 0 ? JSON.stringify({ distance_x_weather: (i % 100) / 100, rush_hour: -0.1 }) : null,
      riskLevel: ['low', 'medium', 'high'][i % 3]!,
    };
  });
}

/** Rows the service must refuse, by index, with the fields it names: one of them twice wrong. */
const REFUSED = new Map<number, string[]>([
  [17, ['contributing_factors']],
  [1_500, ['confidence']],
  [1_900, ['confidence', 'risk_level']],
]);
const FACTORS_REFUSED = 17;
const wrong = (i: number, field: string) => REFUSED.get(i)?.includes(field) ?? false;

let t: TestApp;
let flask: TestDatabase;
let seeds: FlaskSeed[];
let first: ImportReport;

const run = () =>
  importFlask({ fromUrl: flask.url, table: 'ml_prediction', service: { url: t.baseUrl, ingestToken: t.tokens.ingest }, chunkRows: 1_000, log: () => {} });

beforeAll(async () => {
  t = await startTestApp();
  flask = await createTestDatabase(undefined, { migrated: false });
  await flask.sql.unsafe(FLASK_TABLE);
  seeds = flaskSeeds();
  const rows = seeds.map((seed, i) => ({
    booking_id: seed.bookingId,
    driver_id: i % 7 === 0 ? null : 300 + (i % 40),
    request_id: seed.requestId,
    predicted_delay_minutes: seed.predicted,
    confidence: wrong(i, 'confidence') ? 1.5 : seed.confidence,
    risk_level: wrong(i, 'risk_level') ? '' : seed.riskLevel,
    contributing_factors: wrong(i, 'contributing_factors') ? 'distance, weather' : seed.factors,
    model_version: seed.modelVersion,
    prediction_time_ms: seed.latencyMs,
    feature_flag_enabled: true,
    traffic_percentage: 25,
    actual_delay_minutes: seed.actual,
    actual_pickup_at: seed.actual === null ? null : naiveUtc(seed.createdUs / 1000 + 20 * 60_000),
    prediction_error: seed.actual === null ? null : Math.abs(seed.predicted - seed.actual),
    is_accurate: seed.actual === null ? null : Math.abs(seed.predicted - seed.actual) < 3,
    created_at: naiveUtc(seed.createdUs / 1000),
    updated_at: naiveUtc(NOW_MS),
  }));
  for (let i = 0; i < rows.length; i += 500) await flask.sql`insert into ml_prediction ${flask.sql(rows.slice(i, i + 500))}`;
  first = await run();
}, 120_000);

afterAll(async () => {
  await t?.close();
  await flask?.drop();
});

const refusedIndexes = new Set<number>(REFUSED.keys());
/** The fields a named row's problems are about, each problem being `field message`. */
const fieldsOf = ({ problems }: RefusedRow) => problems.map((problem) => problem.split(' ')[0]);
const stored = () => seeds.filter((_, i) => !refusedIndexes.has(i));

describe('import-flask', () => {
  it('stores every valid row once and names each refused one once by its Flask id, with all its problems', () => {
    expect(first.read).toBe(ROWS);
    expect(first.accepted).toBe(ROWS - refusedIndexes.size);
    expect(first.duplicates).toBe(0);
    expect(first.refused).toBe(refusedIndexes.size);
    // Flask ids are serial from 1, in insertion order
    expect(first.refusedRows.map((row) => [row.id, fieldsOf(row)])).toEqual([...REFUSED].map(([i, fields]) => [i + 1, fields]));
    expect(first.actuals).toBe(seeds.filter((seed) => seed.actual !== null).length);
  });

  it('gives the metrics of the imported history, exactly', async () => {
    const from = new Date(NOW_MS - 241 * HOUR_MS).toISOString();
    const to = new Date(NOW_MS + HOUR_MS).toISOString();
    const metrics = (await t.get(`${API}/metrics?from=${from}&to=${to}`)).json();
    const expected = twoPass(stored(), t.rules);
    for (const [field, value] of Object.entries(expected)) {
      if (value === null) expect(metrics[field]).toBeNull();
      else expect(metrics[field]).toBeCloseTo(value, 9);
    }
  });

  it('keeps each row\'s fields: creation time (naive UTC), request_id or flask-<id>, factors, actual', async () => {
    for (const i of [0, 1, 2, 5, ROWS - 1]) {
      const seed = seeds[i]!;
      const createdMs = seed.createdUs / 1000;
      const range = `from=${new Date(createdMs - 1).toISOString()}&to=${new Date(createdMs).toISOString()}`;
      const listed = (await t.get(`${API}/predictions?${range}`)).json() as Record<string, unknown>[];
      expect(listed.map((p) => p.booking_id)).toEqual([seed.bookingId]);
      const row = listed[0];
      expect(row!.request_id).toBe(seed.requestId ?? `flask-${i + 1}`);
      expect(row!.contributing_factors).toEqual(seed.factors === null ? null : JSON.parse(seed.factors));
      expect(row!.actual_delay_minutes).toBe(seed.actual);
      expect(row!.model_version).toBe(seed.modelVersion);
    }
  });

  it('can run again: nothing is stored twice and the metrics do not move', async () => {
    const before = await tableCounts(t.db);
    const metricsBefore = (await t.get(`${API}/metrics?hours=300`)).json();
    const again = await run();
    expect(again.accepted).toBe(0);
    expect(again.duplicates).toBe(ROWS - refusedIndexes.size);
    expect(await tableCounts(t.db)).toEqual(before);
    const metricsAfter = (await t.get(`${API}/metrics?hours=300`)).json();
    // The same actuals again replace themselves: the rollups' moments are taken out and put back,
    // which may move the last bit of a float.
    for (const field of ['predictions', 'count', 'anomalies']) expect(metricsAfter[field]).toBe(metricsBefore[field]);
    for (const field of ['mae', 'rmse', 'r2', 'accuracy_rate', 'avg_confidence', 'avg_prediction_time_ms']) {
      expect(metricsAfter[field]).toBeCloseTo(metricsBefore[field], 12);
    }
  });

  it('stores a refused row once it is fixed, labelled by the actual kept for it', async () => {
    const i = FACTORS_REFUSED;
    const seed = seeds[i]!;
    expect(seed.actual).not.toBeNull();
    await flask.sql`update ml_prediction set contributing_factors = ${seed.factors} where id = ${i + 1}`;
    const fixed = await run();
    expect(fixed.accepted).toBe(1);
    expect(fixed.refusedRows.map(fieldsOf)).toEqual([['confidence'], ['confidence', 'risk_level']]);
    const createdMs = seed.createdUs / 1000;
    const [row] = (await t.get(`${API}/predictions?from=${new Date(createdMs - 1).toISOString()}&to=${new Date(createdMs).toISOString()}`)).json();
    expect(row).toMatchObject({ booking_id: seed.bookingId, actual_delay_minutes: seed.actual, prediction_error: Math.abs(seed.predicted - seed.actual!) });
  });

  it('counts the refused rows a full list of problems leaves out, and names them all in smaller chunks', async () => {
    // 600 rows, two problems each: a chunk of 1,000 rows has more problems than the service lists.
    await flask.sql.unsafe(FLASK_TABLE.replace('create table ml_prediction', 'create table all_wrong'));
    await flask.sql`
      insert into all_wrong (booking_id, predicted_delay_minutes, confidence, risk_level, created_at, updated_at)
      select 95000 + n, 5, 1.5, '', now() at time zone 'utc' - interval '1 hour', now() at time zone 'utc' from generate_series(1, 600) n`;
    const importAllWrong = (chunkRows: number) =>
      importFlask({ fromUrl: flask.url, table: 'all_wrong', service: { url: t.baseUrl, ingestToken: t.tokens.ingest }, chunkRows, log: () => {} });
    const whole = await importAllWrong(1_000);
    expect(whole).toMatchObject({ read: 600, accepted: 0, refused: 600 });
    expect(whole.refusedRows.map(({ id }) => id)).toEqual(Array.from({ length: MAX_LISTED_LINE_PROBLEMS / 2 }, (_, i) => i + 1));
    expect(whole.refusedRows.at(-1)!.problems.at(-1)).toBe(MORE_PROBLEMS_NOT_LISTED);
    const small = await importAllWrong(100);
    expect(small).toMatchObject({ read: 600, accepted: 0, refused: 600 });
    expect(small.refusedRows.map(fieldsOf)).toEqual(Array.from({ length: 600 }, () => ['confidence', 'risk_level']));
  });

  it('keeps rows that share a request_id apart, and counts the rows their booking\'s actual labels', async () => {
    await flask.sql.unsafe(FLASK_TABLE.replace('create table ml_prediction', 'create table shared_ids'));
    const at = naiveUtc(NOW_MS - 2 * HOUR_MS);
    const row = (booking_id: number, request_id: string | null, actual_delay_minutes: number | null) => ({
      booking_id, request_id, predicted_delay_minutes: 5, confidence: 0.8, risk_level: 'low', model_version: 'shared-ids', actual_delay_minutes, created_at: at, updated_at: at,
    });
    // Rows 1 and 2 are two bookings under one request_id. Booking 97002 was predicted twice (rows 3
    // and 4), and Flask labelled only the newer prediction.
    await flask.sql`insert into shared_ids ${flask.sql([row(97_000, 'same', 6), row(97_001, 'same', null), row(97_002, null, null), row(97_002, 'r-4', 9)])}`;
    const importShared = () =>
      importFlask({ fromUrl: flask.url, table: 'shared_ids', service: { url: t.baseUrl, ingestToken: t.tokens.ingest }, chunkRows: 1_000, log: () => {} });
    expect(await importShared()).toMatchObject({ read: 4, accepted: 4, duplicates: 0, sharedRequestIds: 1, labelledByTheirBooking: 1 });
    expect(await importShared()).toMatchObject({ read: 4, accepted: 0, duplicates: 4 });
    const listed = (await t.get(`${API}/predictions?model_version=shared-ids`)).json() as Record<string, unknown>[];
    expect(listed.map((p) => [p.booking_id, p.request_id, p.actual_delay_minutes]).sort()).toEqual([
      [97_000, 'same', 6],
      [97_001, 'flask-2', null],
      [97_002, 'flask-3', 9],
      [97_002, 'r-4', 9],
    ]);
  });

  it('says which table it could not read', async () => {
    await expect(importFlask({ fromUrl: flask.url, table: 'no_such_table', service: { url: t.baseUrl, ingestToken: t.tokens.ingest }, chunkRows: 10, log: () => {} }))
      .rejects.toThrow(/cannot read the Flask table no_such_table: .*does not exist/);
  });
});
