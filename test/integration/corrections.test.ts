/**
 * Corrections: an actual sent again replaces the previous one, in the prediction rows and in the
 * rollup, never adds to it. And R² through the service stays exact (1e-9 relative vs two-pass)
 * for actuals of 500 ± 0.5, with and without corrections. Expected values are computed here from
 * the generated raw data (test/support/reference.ts).
 */
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import { closeTo, exactSum, inOpenClosed, metricsMismatches, relError, seededRandom, testSeed, twoPass, type RawPrediction } from '../support/reference.js';
import { bodyOf, expectStatus, HOUR_US, MINUTE_US, randomChunks, shuffle } from '../support/generate.js';

let t: TestApp;
let random: () => number;
let nowMs = 0;

beforeAll(async () => {
  random = seededRandom(testSeed('corrections'));
  nowMs = Date.now();
  t = await startTestApp();
});
afterAll(() => t?.close());

async function send(rows: RawPrediction[]): Promise<void> {
  for (const chunk of randomChunks(shuffle(rows, random), 200, random)) {
    expectStatus(await t.post(`${API}/predictions`, chunk.map((p) => bodyOf(p))), 201, 'predictions');
  }
}

async function label(values: Map<number, number>): Promise<void> {
  const list = [...values].map(([booking_id, actual_delay_minutes]) => ({ booking_id, actual_delay_minutes }));
  for (const chunk of randomChunks(list, 150, random)) expectStatus(await t.post(`${API}/actuals`, chunk), 200, 'actuals');
}

const metricsOf = async (version: string, hours = 72) => {
  const res = await t.get(`${API}/metrics?hours=${hours}&model_version=${version}`);
  expectStatus(res, 200, 'metrics');
  return res.json();
};

describe('a single correction', () => {
  it('replaces the label: 10 vs 11 (accurate) then vs 20 (anomaly), counted once', async () => {
    await t.post(`${API}/predictions`, { booking_id: 1, predicted_delay_minutes: 10, confidence: 0.5, risk_level: 'low', model_version: 'single' });
    expect((await t.post(`${API}/actuals`, { booking_id: 1, actual_delay_minutes: 11 })).json()).toEqual({ updated: 1, pending: 0 });
    expect(await metricsOf('single')).toMatchObject({ predictions: 1, count: 1, mae: 1, accuracy_rate: 1, anomalies: 0 });
    expect((await t.post(`${API}/actuals`, { booking_id: 1, actual_delay_minutes: 20 })).json()).toEqual({ updated: 1, pending: 0 });
    expect(await metricsOf('single')).toMatchObject({ predictions: 1, count: 1, mae: 10, rmse: 10, accuracy_rate: 0, anomalies: 1 });
    const [row] = (await t.get(`${API}/predictions?model_version=single`)).json();
    expect(row).toMatchObject({ actual_delay_minutes: 20, prediction_error: 10, is_accurate: false });
    const [rollup] = await t.db.sql<{ labelled: number; err: number }[]>`
      select sum(labelled)::int as labelled, sum(error_abs_sum) as err from ml_rollup_minute where model_version = 'single'`;
    expect(rollup).toEqual({ labelled: 1, err: 10 });
  });

  it('the last value of a booking in one request wins', async () => {
    await t.post(`${API}/predictions`, { booking_id: 2, predicted_delay_minutes: 0, confidence: 0.5, risk_level: 'low', model_version: 'last-wins' });
    const res = await t.post(`${API}/actuals`, [
      { booking_id: 2, actual_delay_minutes: 50 },
      { booking_id: 2, actual_delay_minutes: 2 },
    ]);
    expect(res.statusCode).toBe(200);
    expect(await metricsOf('last-wins')).toMatchObject({ count: 1, mae: 2, anomalies: 0, accuracy_rate: 1 });
  });

  it('a pending actual corrected before its prediction arrives: the last value is joined', async () => {
    expect((await t.post(`${API}/actuals`, { booking_id: 3, actual_delay_minutes: 30 })).json()).toEqual({ updated: 0, pending: 1 });
    expect((await t.post(`${API}/actuals`, { booking_id: 3, actual_delay_minutes: 4 })).json()).toEqual({ updated: 0, pending: 1 });
    await t.post(`${API}/predictions`, { booking_id: 3, predicted_delay_minutes: 5, confidence: 0.5, risk_level: 'low', model_version: 'pending-corrected' });
    expect(await metricsOf('pending-corrected')).toMatchObject({ predictions: 1, count: 1, mae: 1, accuracy_rate: 1 });
    const [actual] = await t.db.sql`select count(*)::int as n, max(actual_delay_minutes) as v from ml_actual where booking_id = 3`;
    expect(actual).toEqual({ n: 1, v: 4 });
  });
});

describe('many corrections vs the two-pass reference', () => {
  const rows: RawPrediction[] = [];
  const VERSION = 'corrected';

  beforeAll(async () => {
    const nowUs = nowMs * 1000;
    for (let i = 0; i < 240; i++) {
      rows.push({
        bookingId: 100_000 + i,
        // whole-minute interior of the window: the rollup carries these, not the raw edges
        createdUs: nowUs - 2 * HOUR_US - Math.floor(random() * 40 * HOUR_US),
        modelVersion: VERSION,
        predicted: Math.round(random() * 2000) / 100,
        confidence: random(),
        latencyMs: 50 + Math.round(random() * 100),
        actual: null,
      });
    }
    // some actuals first (pending), then the predictions, then the rest: first values
    const first = new Map(rows.map((r) => [r.bookingId, Math.round(random() * 3000) / 100]));
    const early = new Map([...first].filter(() => random() < 0.3));
    await label(early);
    await send(rows);
    await label(new Map([...first].filter(([id]) => !early.has(id))));
    // corrections: half the bookings, 1 to 3 times each, in random orders and batches
    const current = new Map(first);
    for (let round = 0; round < 3; round++) {
      const corrections = new Map<number, number>();
      for (const id of current.keys()) if (random() < 0.5 / (round + 1)) corrections.set(id, Math.round(random() * 3000) / 100);
      await label(corrections);
      for (const [id, v] of corrections) current.set(id, v);
    }
    for (const r of rows) r.actual = current.get(r.bookingId)!;
  }, 60_000);

  it('every row carries the last actual, its error and accuracy', async () => {
    const stored = await t.db.sql<{ booking_id: number; actual_delay_minutes: number; prediction_error: number; is_accurate: boolean }[]>`
      select booking_id, actual_delay_minutes, prediction_error, is_accurate from ml_prediction where model_version = ${VERSION}`;
    const byBooking = new Map(rows.map((r) => [r.bookingId, r]));
    expect(stored).toHaveLength(rows.length);
    for (const s of stored) {
      const r = byBooking.get(s.booking_id)!;
      expect(s.actual_delay_minutes).toBe(r.actual);
      expect(closeTo(s.prediction_error, Math.abs(r.predicted - r.actual!), 1e-12)).toBe(true);
      expect(s.is_accurate).toBe(Math.abs(r.predicted - r.actual!) < 3);
    }
  });

  it('the rollup counts each label once: Σ labelled and Σ |error| equal the rows\'', async () => {
    const [rollup] = await t.db.sql<{ labelled: number; predictions: number; err: number; sq: number }[]>`
      select sum(labelled)::int as labelled, sum(predictions)::int as predictions, sum(error_abs_sum) as err, sum(error_sq_sum) as sq
      from ml_rollup_minute where model_version = ${VERSION}`;
    const errors = rows.map((r) => Math.abs(r.predicted - r.actual!));
    expect(rollup!.predictions).toBe(rows.length);
    expect(rollup!.labelled).toBe(rows.length);
    expect(relError(rollup!.err, exactSum(errors))).toBeLessThan(1e-9);
    expect(relError(rollup!.sq, exactSum(errors.map((e) => e * e)))).toBeLessThan(1e-9);
  });

  it('GET /metrics: counts, MAE, RMSE, accuracy, anomalies equal the two-pass values', async () => {
    const m = await metricsOf(VERSION);
    const expected = twoPass(inOpenClosed(rows, Date.parse(m.from) * 1000, Date.parse(m.to) * 1000), t.rules);
    expect(metricsMismatches(m, { ...expected, r2: m.r2 }, VERSION)).toEqual([]);
  });

  it('GET /metrics: R² equals the two-pass R² after corrections', async () => {
    const m = await metricsOf(VERSION);
    const expected = twoPass(inOpenClosed(rows, Date.parse(m.from) * 1000, Date.parse(m.to) * 1000), t.rules);
    expect({ r2: m.r2 }).toEqual({ r2: expect.closeTo(expected.r2!, 9) });
  });
});

describe('R² exact to 1e-9 relative for actuals 500 ± 0.5', () => {
  function precisionRows(version: string, bookingBase: number, count: number): RawPrediction[] {
    const nowUs = nowMs * 1000;
    return Array.from({ length: count }, (_, i) => {
      const actual = 500 + (random() - 0.5);
      return {
        bookingId: bookingBase + i,
        // spread over whole minutes and partial edge minutes of the 6 h window
        createdUs: nowUs - 10 * MINUTE_US - Math.floor(random() * 5 * HOUR_US),
        modelVersion: version,
        predicted: actual + (random() - 0.5) * 0.5,
        confidence: 0.9,
        latencyMs: null,
        actual,
      };
    });
  }

  async function r2Check(version: string, rows: RawPrediction[]) {
    const problems: string[] = [];
    for (const hours of [6, 24]) {
      const m = await metricsOf(version, hours);
      const expected = twoPass(inOpenClosed(rows, Date.parse(m.from) * 1000, Date.parse(m.to) * 1000), t.rules);
      expect(expected.r2).not.toBeNull();
      if (relError(m.r2, expected.r2!) >= 1e-9) problems.push(`hours=${hours}: r2 ${m.r2}, two-pass ${expected.r2} (relative error ${relError(m.r2, expected.r2!).toExponential(2)})`);
    }
    // and over ranges with partial edge minutes (raw rows merged with rollup moments)
    for (let i = 0; i < 5; i++) {
      const fromMs = nowMs - 6 * 3600_000 + Math.floor(random() * 3600_000);
      const toMs = fromMs + 3600_000 + Math.floor(random() * 3600_000);
      const m = (await t.get(`${API}/metrics?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}&model_version=${version}`)).json();
      const expected = twoPass(inOpenClosed(rows, fromMs * 1000, toMs * 1000), t.rules);
      if (expected.r2 === null) continue;
      if (relError(m.r2, expected.r2) >= 1e-9) problems.push(`(${new Date(fromMs).toISOString()}, ${new Date(toMs).toISOString()}]: r2 ${m.r2}, two-pass ${expected.r2}`);
    }
    return problems;
  }

  it('labelled at once (no corrections)', async () => {
    const rows = precisionRows('precision', 200_000, 600);
    await label(new Map(rows.slice(0, 200).map((r) => [r.bookingId, r.actual!]))); // before: pending
    await send(rows);
    await label(new Map(rows.slice(200).map((r) => [r.bookingId, r.actual!])));
    expect(await r2Check('precision', rows)).toEqual([]);
  });

  it('after corrections of the actuals (still 500 ± 0.5)', async () => {
    const rows = precisionRows('precision-corrected', 300_000, 600);
    await send(rows);
    await label(new Map(rows.map((r) => [r.bookingId, 500 + (random() - 0.5)]))); // first, wrong values
    await label(new Map(rows.map((r) => [r.bookingId, r.actual!]))); // corrected to the true ones
    expect(await r2Check('precision-corrected', rows)).toEqual([]);
  });
});
