/**
 * Property-based tests (fast-check) over every write endpoint and the query parameters of every
 * read endpoint: random and adversarial values never produce a 5xx, never store an invalid row,
 * and a rejected request never changes the totals. The number of cases tried is printed.
 *
 * The adversarial pools include the values that once broke the service (unpaired surrogates,
 * year 0000, numbers whose squares underflow, NUL in /timeseries' model_version); each also has
 * its own test in bad-input.test.ts. The "valid" generators keep to values that are valid under
 * either reading of the contract (e.g. no non-zero number below 1e-100 in magnitude).
 */
import fc from 'fast-check';
import { API, startTestApp, tableCounts, type TestApp } from '../support/app-harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const NOW = Date.now();
/** null most of the time, a value one time in ten. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** Non-zero numbers below 1e-100 in magnitude are not generated as "valid" (see the header). */
const notTiny = (x: number) => x === 0 || Math.abs(x) > 1e-100;

const nastyStrings = fc.constantFrom(
  '', ' ', 'x', 'low', "'; DROP TABLE ml_prediction; --", '" OR 1=1 --', '\\', '%00', '\u0000', 'a\u0000b', '😀', 'é', 'e\u0301',
  '\ud800', 'a\udc00b', '\udfff\ud800', '0000-01-01T00:00:00Z', '2016-12-31T23:59:60Z', '\u202egnp.exe', 'NaN', 'Infinity', '-0', '1e400', 'null', 'true', '{}', '[]', '<script>', '${jndi:ldap://x}', 'x'.repeat(21),
  'y'.repeat(51), 'z'.repeat(101), '\n', '\t', '\r\n', '\u2028', '\uFEFF', 'ＡＢＣ',
);
const anyString = fc.oneof(nastyStrings, fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ maxLength: 120 }));
const nastyNumbers = fc.constantFrom(0, -0, 1, -1, 0.5, 1.5, 100, 101, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e6, 1e6 + 1, -1e6 - 1, 1e12, 1e300, -1e300, Number.MIN_VALUE, -1e-200, 1e-101, 3_600_000, 3_600_001);
const anyNumber = fc.oneof(nastyNumbers, fc.double(), fc.integer(), fc.double({ min: 0, max: 1 }));
const isoDate = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date(NOW + 3_600_000), noInvalidDate: true }).map((d) => d.toISOString());
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  anyString,
  anyNumber,
  fc.boolean(),
  fc.constant(null),
  isoDate,
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.double(), fc.string({ maxLength: 5 })), { maxKeys: 3 }),
);

/** A field that is usually valid, sometimes adversarial, sometimes absent. */
const field = <T>(valid: fc.Arbitrary<T>, optional: boolean) =>
  fc.oneof(
    { weight: 40, arbitrary: valid.map((v) => ({ v })) },
    { weight: 1, arbitrary: anyValue.map((v) => ({ v })) },
    { weight: optional ? 20 : 1, arbitrary: fc.constant(undefined) },
  );

const predictionArb = fc
  .record({
    booking_id: field(fc.integer({ min: 0, max: 1_000_000 }), false),
    predicted_delay_minutes: field(fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter(notTiny), false),
    confidence: field(fc.double({ min: 0, max: 1, noNaN: true }).filter(notTiny), false),
    risk_level: field(fc.constantFrom('low', 'medium', 'high', 'é😀', "o'brien"), false),
    driver_id: field(fc.integer({ min: 0, max: 1e9 }), true),
    request_id: field(fc.string({ minLength: 1, maxLength: 100, unit: 'binary' }).filter((s) => !s.includes('\u0000')), true),
    contributing_factors: field(fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.double({ min: -1e12, max: 1e12, noNaN: true }), { maxKeys: 5 }), true),
    model_version: field(fc.constantFrom('v1', 'v2', 'canary-ß'), true),
    prediction_time_ms: field(fc.double({ min: 0, max: 3_600_000, noNaN: true }).filter(notTiny), true),
    feature_flag_enabled: field(fc.boolean(), true),
    traffic_percentage: field(fc.integer({ min: 0, max: 100 }), true),
    created_at: field(fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date(NOW), noInvalidDate: true }).map((d) => d.toISOString()), true),
    extra: rarely(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), anyValue)),
  })
  .map(({ extra, ...fields }) => {
    const body: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(fields)) if (f !== undefined) body[k] = f.v;
    if (extra) body[extra[0]] = extra[1];
    return body;
  });

interface StoredRow {
  booking_id: number;
  confidence: number;
  risk_level: string;
  model_version: string;
  predicted_delay_minutes: number;
  traffic_percentage: number | null;
  prediction_time_ms: number | null;
  request_id: string | null;
  created_at: Date;
}

function invalidStored(row: StoredRow): string | null {
  if (!(row.confidence >= 0 && row.confidence <= 1)) return 'confidence';
  if (row.risk_level.length < 1 || row.risk_level.length > 20 || row.risk_level.includes('\u0000')) return 'risk_level';
  if (row.model_version.length > 50) return 'model_version';
  if (!(Math.abs(row.predicted_delay_minutes) <= 1e6)) return 'predicted_delay_minutes';
  if (row.traffic_percentage !== null && !(row.traffic_percentage >= 0 && row.traffic_percentage <= 100)) return 'traffic_percentage';
  if (row.prediction_time_ms !== null && !(row.prediction_time_ms >= 0)) return 'prediction_time_ms';
  if (row.created_at.getTime() > Date.now() + 5 * 60_000) return 'created_at';
  return null;
}

describe('property: the write endpoints', () => {
  it('POST /predictions: never 5xx; 201 stores exactly the valid rows; a refusal changes nothing', async () => {
    let cases = 0;
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(predictionArb, fc.array(predictionArb, { minLength: 1, maxLength: 4 })), async (body) => {
        cases++;
        const before = await tableCounts(t.db);
        const maxIdBefore = (await t.db.sql`select coalesce(max(id), 0)::int as id from ml_prediction`)[0]!.id as number;
        const res = await t.post(`${API}/predictions`, body);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode === 201) {
          accepted++;
          const n = Array.isArray(body) ? body.length : 1;
          const result = res.json();
          expect(result.accepted + result.duplicates).toBe(n);
          const rows = await t.db.sql<StoredRow[]>`
            select booking_id, confidence, risk_level, model_version, predicted_delay_minutes, traffic_percentage,
                   prediction_time_ms, request_id, created_at
            from ml_prediction where id > ${maxIdBefore}`;
          expect(rows).toHaveLength(result.accepted);
          for (const row of rows) expect(invalidStored(row)).toBeNull();
          const after = await tableCounts(t.db);
          expect(after.predictions - before.predictions).toBe(result.accepted);
          expect(after.rollupPredictions - before.rollupPredictions).toBe(result.accepted);
        } else {
          refused++;
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.json().message).toEqual(expect.any(String));
          expect(await tableCounts(t.db)).toEqual(before);
        }
      }),
      { numRuns: 300 },
    );
    console.log(`property POST /predictions: ${cases} cases (${accepted} accepted, ${refused} refused)`);
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  }, 90_000);

  it('POST /actuals: never 5xx; a refusal changes nothing', async () => {
    let cases = 0;
    const actualArb = fc
      .record({
        booking_id: field(fc.integer({ min: 0, max: 1_000_000 }), false),
        actual_delay_minutes: field(fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter(notTiny), false),
        actual_pickup_at: field(isoDate, true),
        actual_dropoff_at: field(isoDate, true),
      })
      .map((fields) => Object.fromEntries(Object.entries(fields).flatMap(([k, f]) => (f === undefined ? [] : [[k, f.v]]))));
    await fc.assert(
      fc.asyncProperty(fc.oneof(actualArb, fc.array(actualArb, { minLength: 1, maxLength: 4 })), async (body) => {
        cases++;
        const before = await tableCounts(t.db);
        const res = await t.post(`${API}/actuals`, body);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode === 200) {
          const { updated, pending } = res.json();
          expect(Number.isInteger(updated) && Number.isInteger(pending)).toBe(true);
          const after = await tableCounts(t.db);
          expect(after.predictions).toBe(before.predictions);
          expect(after.rollupPredictions).toBe(before.rollupPredictions);
        } else {
          expect(await tableCounts(t.db)).toEqual(before);
        }
      }),
      { numRuns: 150 },
    );
    console.log(`property POST /actuals: ${cases} cases`);
  }, 60_000);

  it('PUT /feature-flags and POST /prediction-failures: never 5xx; a refusal changes nothing', async () => {
    let cases = 0;
    const bodyArb = fc.oneof(
      fc.record({ ml_enabled: fc.option(anyValue), ml_traffic_percentage: fc.option(anyValue) }, { requiredKeys: [] }),
      fc.record({ count: fc.option(anyValue), model_version: fc.option(anyValue), reason: fc.option(anyValue) }, { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 8 }), anyValue, { maxKeys: 3 }),
      anyValue,
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('flags', 'failures'), bodyArb, async (route, body) => {
        cases++;
        const before = { counts: await tableCounts(t.db), flags: (await t.get(`${API}/feature-flags`)).json() };
        const res = route === 'flags' ? await t.put(`${API}/feature-flags`, JSON.stringify(body) ?? 'null') : await t.post(`${API}/prediction-failures`, JSON.stringify(body) ?? 'null');
        expect(res.statusCode).toBeLessThan(500);
        const flags = (await t.get(`${API}/feature-flags`)).json();
        expect(flags.ml_traffic_percentage >= 0 && flags.ml_traffic_percentage <= 100 && Number.isInteger(flags.ml_traffic_percentage)).toBe(true);
        if (res.statusCode >= 400) {
          expect(await tableCounts(t.db)).toEqual(before.counts);
          expect(flags).toEqual(before.flags);
        }
      }),
      { numRuns: 150 },
    );
    console.log(`property PUT /feature-flags + POST /prediction-failures: ${cases} cases`);
  }, 60_000);
});

describe('property: query parameters of every read endpoint', () => {
  const ROUTES: Record<string, string[]> = {
    metrics: ['hours', 'from', 'to', 'model_version'],
    daily: ['days', 'model_version'],
    timeseries: ['from', 'to', 'step', 'model_version'],
    predictions: ['limit', 'cursor', 'from', 'to', 'model_version'],
    anomalies: ['threshold', 'limit', 'hours', 'from', 'to', 'model_version'],
    'feature-flags/decision': ['booking_id'],
    'model-versions': ['hours'],
    summary: [],
    info: [],
    'feature-flags': [],
  };
  const recentIso = fc.date({ min: new Date(NOW - 400 * 86_400_000), max: new Date(NOW), noInvalidDate: true }).map((d) => d.toISOString());
  const paramValue = fc.oneof(
    fc.integer({ min: -5, max: 20_000 }).map(String),
    fc.double().map(String),
    recentIso,
    anyString,
    fc.constantFrom('1', '24', '168', '8784', '60', '3600', '1000', '0', '-1', '1e400', 'NaN', 'Infinity', '', 'MToy', 'AAAA', 'v1,v2', ',,,'),
  );

  it('never a 5xx; 200 bodies are JSON', async () => {
    let cases = 0;
    const byStatus = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(ROUTES)),
        fc.array(fc.tuple(fc.nat(), paramValue), { maxLength: 4 }),
        rarely(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), paramValue)),
        async (route, picks, unknown) => {
          cases++;
          const names = ROUTES[route]!;
          const params = new URLSearchParams();
          for (const [i, value] of picks) {
            if (names.length === 0) break;
            const name = names[i % names.length]!;
            params.append(name, value);
          }
          if (unknown) params.append(unknown[0], unknown[1]);
          const query = params.toString();
          const res = await t.get(`${API}/${route}${query ? `?${query}` : ''}`);
          byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) throw new Error(`GET /${route}?${query}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          expect(() => res.json()).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
    console.log(`property query parameters: ${cases} cases, statuses ${JSON.stringify(Object.fromEntries(byStatus))}`);
    expect(byStatus.get(200) ?? 0).toBeGreaterThan(20);
    expect(byStatus.get(400) ?? 0).toBeGreaterThan(20);
  }, 60_000);
});
