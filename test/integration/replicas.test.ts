/**
 * Two replicas on one database, as docs/scaling.md runs them behind a load balancer: two apps
 * built by buildApp, each with its own connection pool, group-commit writers and metrics registry.
 * The same predictions go to both at once (single POSTs, arrays, NDJSON), actuals are split across
 * them (some before their prediction, some racing it, corrections racing each other), and then
 * the stored rows, every rollup tier and the reads of both replicas are checked against SQL over
 * the raw rows, and the counters of the two against the traffic each one received.
 */
import { ROLLUP_TIERS } from '../../src/store/rollup.js';
import { API, startTestApp, type Reply, type TestApp } from '../support/app-harness.js';
import {
  closeTo,
  inHalfOpen,
  inOpenClosed,
  metricsMismatches,
  microsFromIso,
  parsePrometheus,
  QUALITY_GAUGES,
  samplesOf,
  seededRandom,
  twoPass,
  type ExpectedMetrics,
  type RawPrediction,
} from '../support/reference.js';
import { tierMismatches } from '../support/rollup-reference.js';
import { bodyOf, DAY_US, expectStatus, HOUR_US, inParallel, MINUTE_US, randomChunks, shuffle, type PredictionBody } from '../support/generate.js';

const VERSIONS = ['replica-v1', 'replica-v2'];
const BOOKINGS = 240;
const GAUGE_REFRESH_SECONDS = 1;
/** The data is fixed; the interleaving of the two replicas' writes is not (that is the point). */
const DATA_SEED = 20_240_517;

let a: TestApp;
let b: TestApp;
let random: () => number;
let writesEndedMs = 0;
afterAll(async () => {
  await b?.close(); // before a, which drops the database
  await a?.close();
});

interface Planned {
  body: PredictionBody;
  live: boolean;
  hasLatency: boolean;
}

/** What the replicas were sent and answered, for the counters and the final checks. */
const sent = {
  predictionRows: 0,
  accepted: 0,
  duplicates: 0,
  actualsTo: new Map<TestApp, number>(),
};
/** Per booking, the final actuals a sequential application could have left (one, or either of two racing). */
const allowedFinal = new Map<number, number[]>();
const planned: Planned[] = [];

function plan(): void {
  const nowUs = Date.now() * 1000;
  // Clear of the gauge windows' starts (1 h, 24 h), which move between the sending and the reads,
  // and of the age where a prediction stops being live traffic.
  const historyAt = (): number => {
    for (;;) {
      const us = nowUs - 10 * MINUTE_US - Math.floor(random() * 5 * DAY_US);
      if (Math.abs(us - (nowUs - HOUR_US)) > 5 * MINUTE_US && Math.abs(us - (nowUs - DAY_US)) > 5 * MINUTE_US) return us;
    }
  };
  const make = (bookingId: number, modelVersion: string, requestId: string): Planned => {
    const live = random() < 0.3;
    const raw: RawPrediction = {
      bookingId,
      createdUs: live ? nowUs - Math.floor(random() * 30_000_000) : historyAt(),
      modelVersion,
      predicted: Math.round(random() * 2500) / 100,
      confidence: Math.round(random() * 1000) / 1000,
      latencyMs: random() < 0.2 ? null : 5 + Math.round(random() * 40_000) / 100,
      actual: null,
    };
    return { body: bodyOf(raw, { request_id: requestId }), live, hasLatency: raw.latencyMs !== null };
  };
  for (let booking = 1; booking <= BOOKINGS; booking++) {
    planned.push(make(booking, VERSIONS[booking % 2]!, `replica-req-${booking}`));
    // Some bookings predicted by both versions: one actual labels both rows.
    if (booking % 8 === 0) planned.push(make(booking, VERSIONS[(booking + 1) % 2]!, `replica-req-${booking}-again`));
  }
}

const ndjsonPost = (t: TestApp, predictions: PredictionBody[]) =>
  t.raw({
    method: 'POST',
    path: `${API}/predictions/bulk`,
    body: predictions.map((p) => JSON.stringify(p)).join('\n'),
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${t.tokens.ingest}` },
  });

/** One replica's share of the predictions as requests: single POSTs, arrays and NDJSON loads, shuffled. */
function predictionRequests(t: TestApp, predictions: PredictionBody[]): (() => Promise<void>)[] {
  return randomChunks(shuffle(predictions, random), 40, random).map((chunk) => {
    const shape = chunk.length === 1 ? 'single' : random() < 0.5 ? 'array' : 'ndjson';
    return async () => {
      const res: Reply = shape === 'single' ? await t.post(`${API}/predictions`, chunk[0]) : shape === 'array' ? await t.post(`${API}/predictions`, chunk) : await ndjsonPost(t, chunk);
      expectStatus(res, shape === 'ndjson' ? 200 : 201, `${shape} of ${chunk.length}`);
      const { accepted, duplicates } = res.json();
      expect(accepted + duplicates).toBe(chunk.length);
      if (shape === 'ndjson') expect(res.json()).toMatchObject({ rejected: 0, errors: [] });
      sent.predictionRows += chunk.length;
      sent.accepted += accepted;
      sent.duplicates += duplicates;
    };
  });
}

async function postActuals(t: TestApp, actuals: { booking_id: number; actual_delay_minutes: number }[]): Promise<{ updated: number; pending: number }> {
  const res = await t.post(`${API}/actuals`, actuals.length === 1 ? actuals[0] : actuals);
  expectStatus(res, 200, 'actuals');
  sent.actualsTo.set(t, (sent.actualsTo.get(t) ?? 0) + actuals.length);
  return res.json();
}

const actualFor = (booking: number) => Math.round((booking % 25) * 100 + (random() - 0.5) * 1200) / 100;
const predictionsOf = (booking: number) => planned.filter((p) => p.body.booking_id === booking).length;

beforeAll(async () => {
  random = seededRandom(DATA_SEED);
  // Gauges served from snapshots, as in production: each replica re-reads them every second while scraped.
  a = await startTestApp({ metricsCacheSeconds: GAUGE_REFRESH_SECONDS });
  b = await startTestApp({ replicaOf: a, metricsCacheSeconds: GAUGE_REFRESH_SECONDS });
  await Promise.all([a, b].map((t) => t.get('/metrics', null))); // scraped from the start
  plan(); // after the start, so that "now" is close to the sending
  const bookings = shuffle(Array.from({ length: BOOKINGS }, (_, i) => i + 1), random);
  const early = bookings.slice(0, 40);
  const racingPredictions = bookings.slice(40, 80);
  const late = bookings.slice(80, 200); // the rest stays unlabelled

  // 1. Actuals on B before any prediction: kept pending.
  for (const chunk of randomChunks(early, 10, random)) {
    const actuals = chunk.map((booking) => ({ booking_id: booking, actual_delay_minutes: actualFor(booking) }));
    actuals.forEach(({ booking_id, actual_delay_minutes }) => allowedFinal.set(booking_id, [actual_delay_minutes]));
    expect(await postActuals(b, actuals)).toEqual({ updated: 0, pending: chunk.length });
  }

  // 2. The predictions: each to A, to B, or to both at once; meanwhile actuals on B for bookings
  // whose predictions are on their way to A.
  const toA: PredictionBody[] = [];
  const toB: PredictionBody[] = [];
  for (const { body } of planned) {
    const r = random();
    const onlyToA = r < 0.3 || racingPredictions.includes(body.booking_id);
    if (r >= 0.5 || onlyToA) toA.push(body);
    if (r >= 0.3 && !onlyToA) toB.push(body);
  }
  const sentToBoth = planned.slice(0, 30).map((p) => p.body); // once more to each replica, chunked differently
  // Every random value is drawn before the requests run, in an order the seed fixes.
  const racingActuals = racingPredictions.map((booking) => {
    const actual = actualFor(booking);
    allowedFinal.set(booking, [actual]);
    return async () => {
      const { updated, pending } = await postActuals(b, [{ booking_id: booking, actual_delay_minutes: actual }]);
      // Whichever came first, the booking's stored predictions were labelled, or none yet.
      expect(pending === 1 ? updated === 0 : updated >= 1 && updated <= predictionsOf(booking)).toBe(true);
    };
  });
  const tasks = (t: TestApp, predictions: PredictionBody[]) => [...predictionRequests(t, sentToBoth), ...predictionRequests(t, predictions)];
  await Promise.all([inParallel(tasks(a, toA), 6), inParallel(tasks(b, toB), 6), inParallel(racingActuals, 4)]);

  // 3. Late actuals, split across the replicas: every prediction is there now.
  const lateTasks = randomChunks(late, 15, random).map((chunk) => {
    const actuals = chunk.map((booking) => ({ booking_id: booking, actual_delay_minutes: actualFor(booking) }));
    actuals.forEach(({ booking_id, actual_delay_minutes }) => allowedFinal.set(booking_id, [actual_delay_minutes]));
    const replica = random() < 0.5 ? a : b;
    return async () => {
      const result = await postActuals(replica, actuals);
      expect(result).toEqual({ updated: chunk.reduce((n, booking) => n + predictionsOf(booking), 0), pending: 0 });
    };
  });
  await inParallel(lateTasks, 4);

  // 4. Corrections racing on both replicas for the same bookings: singles, and arrays covering the
  // same bookings in opposite orders. Either value may win, but only one, everywhere.
  const corrected = shuffle([...early, ...racingPredictions, ...late], random).slice(0, 60);
  const raceTasks = randomChunks(corrected, 6, random).map((chunk) => {
    const first = chunk.map((booking) => ({ booking_id: booking, actual_delay_minutes: actualFor(booking) + 7 }));
    const second = chunk.map((booking) => ({ booking_id: booking, actual_delay_minutes: actualFor(booking) - 7 })).reverse();
    for (const [i, booking] of chunk.entries()) allowedFinal.set(booking, [first[i]!.actual_delay_minutes, second[chunk.length - 1 - i]!.actual_delay_minutes]);
    return () => Promise.all([postActuals(a, first), postActuals(b, second)]);
  });
  await inParallel(raceTasks, 4);
  writesEndedMs = Date.now();
}, 60_000);

/** Every stored prediction, read back by SQL, in the reference's shape. */
async function storedRows(): Promise<RawPrediction[]> {
  const rows = await a.db.sql<{ booking_id: number; created_us: number; model_version: string; predicted_delay_minutes: number; confidence: number; prediction_time_ms: number | null; actual_delay_minutes: number | null }[]>`
    select booking_id, (extract(epoch from created_at) * 1000000)::float8 as created_us, model_version,
           predicted_delay_minutes, confidence, prediction_time_ms, actual_delay_minutes
    from ml_prediction`;
  return rows.map((r) => ({
    bookingId: r.booking_id,
    createdUs: r.created_us,
    modelVersion: r.model_version,
    predicted: r.predicted_delay_minutes,
    confidence: r.confidence,
    latencyMs: r.prediction_time_ms,
    actual: r.actual_delay_minutes,
  }));
}

/**
 * A scrape whose gauges were read after the last write: the documented staleness is one refresh
 * interval, so waiting longer than a few of them is a failure. Returns its samples and the time
 * the gauges were read (to the millisecond; the data is minutes away from the windows' edges).
 */
async function snapshotAfterTheWrites(t: TestApp): Promise<{ samples: ReturnType<typeof parsePrometheus>; snapshotUs: number }> {
  for (;;) {
    // The age was taken at the render, between these two instants: the read began at least this
    // early and at most this late. Only a read that surely began after the writes will do.
    const requestedMs = Date.now();
    const res = await t.get('/metrics', null);
    expectStatus(res, 200, '/metrics');
    const scrapedMs = Date.now();
    const samples = parsePrometheus(res.body);
    const ageMs = samplesOf(samples, 'mlmon_metrics_snapshot_age_seconds')[0]!.value * 1000;
    const snapshotMs = scrapedMs - ageMs;
    if (requestedMs - ageMs > writesEndedMs) return { samples, snapshotUs: snapshotMs * 1000 };
    if (scrapedMs - writesEndedMs > 3 * GAUGE_REFRESH_SECONDS * 1000) throw new Error(`the gauges are still those of ${new Date(snapshotMs).toISOString()}, before the last write`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A metrics object as the API answers it. */
type MetricsAnswer = ExpectedMetrics & Record<string, unknown>;

describe('two replicas on one database', () => {
  it('stores each request_id exactly once, and the replicas\' answers add up to that', async () => {
    const counts = await a.db.sql<{ request_id: string; n: number }[]>`select request_id, count(*)::int as n from ml_prediction group by request_id`;
    expect(counts.filter(({ n }) => n !== 1)).toEqual([]);
    expect(counts.map(({ request_id }) => request_id).sort()).toEqual(planned.map((p) => p.body.request_id).sort());
    expect(sent.accepted).toBe(planned.length);
    expect(sent.duplicates).toBe(sent.predictionRows - planned.length);
    expect(sent.duplicates).toBeGreaterThan(0);
  });

  it('leaves every booking labelled as a sequential application would (racing corrections: one value, everywhere)', async () => {
    const stored = await a.db.sql<{ booking_id: number; actual_delay_minutes: number | null; predicted_delay_minutes: number; prediction_error: number | null; is_accurate: boolean | null; kept: number | null }[]>`
      select p.booking_id, p.actual_delay_minutes, p.predicted_delay_minutes, p.prediction_error, p.is_accurate, x.actual_delay_minutes as kept
      from ml_prediction p left join ml_actual x using (booking_id)`;
    const problems: string[] = [];
    for (const row of stored) {
      const allowed = allowedFinal.get(row.booking_id);
      if (allowed === undefined) {
        if (row.actual_delay_minutes !== null || row.kept !== null) problems.push(`booking ${row.booking_id} labelled ${row.actual_delay_minutes} without an actual`);
        continue;
      }
      if (row.kept === null || !allowed.includes(row.kept)) problems.push(`booking ${row.booking_id}: ml_actual holds ${row.kept}, expected one of ${allowed.join(', ')}`);
      if (row.actual_delay_minutes !== row.kept) problems.push(`booking ${row.booking_id}: a prediction labelled ${row.actual_delay_minutes}, the actual stored is ${row.kept}`);
      const error = Math.abs(row.predicted_delay_minutes - (row.kept ?? NaN));
      if (!closeTo(row.prediction_error ?? NaN, error, 1e-12) || row.is_accurate !== error < a.rules.accuracyToleranceMinutes) {
        problems.push(`booking ${row.booking_id}: error ${row.prediction_error} (accurate ${row.is_accurate}), expected ${error}`);
      }
    }
    expect(problems).toEqual([]);
    for (const tier of ROLLUP_TIERS) {
      for (const version of VERSIONS) expect({ tier: tier.table, version, mismatches: await tierMismatches(a.db, tier, version) }).toEqual({ tier: tier.table, version, mismatches: [] });
    }
  });

  it('answers /summary, /metrics?hours=24 and /daily?days=7 alike on both replicas, equal to SQL over the raw rows', async () => {
    const rows = await storedRows();
    const problems: string[] = [];
    const answers = new Map<TestApp, MetricsAnswer[]>();
    for (const [name, t] of [['A', a], ['B', b]] as const) {
      const summary = (await t.get(`${API}/summary`)).json();
      expect(summary.total_predictions).toBe(rows.length);
      const hours = (await t.get(`${API}/metrics?hours=24`)).json();
      const daily = (await t.get(`${API}/daily?days=7`)).json() as ({ date: string } & MetricsAnswer)[];
      expect(daily).toHaveLength(7);
      const windows: [string, MetricsAnswer & { from: string; to: string }][] = [['summary.metrics_24h', summary.metrics_24h], ['summary.metrics_7d', summary.metrics_7d], ['metrics?hours=24', hours]];
      for (const [where, m] of windows) problems.push(...metricsMismatches(m, twoPass(inOpenClosed(rows, microsFromIso(m.from), microsFromIso(m.to)), a.rules), `${name} ${where}`));
      for (const day of daily) {
        const startUs = microsFromIso(`${day.date}T00:00:00Z`);
        problems.push(...metricsMismatches(day, twoPass(inHalfOpen(rows, startUs, startUs + DAY_US), a.rules), `${name} daily ${day.date}`));
      }
      expect(daily.reduce((n, day) => n + day.predictions, 0)).toBe(rows.length); // nothing older than the 7 days
      answers.set(t, [...windows.map(([, m]) => m), ...daily]);
    }
    const [fromA, fromB] = [answers.get(a)!, answers.get(b)!];
    fromA.forEach((m, i) => problems.push(...metricsMismatches(fromB[i]!, m, `B against A, read ${i}`)));
    expect(problems).toEqual([]);
  });

  it('serves the same quality gauges on both replicas\' /metrics, equal to SQL over the raw rows', async () => {
    const rows = await storedRows();
    const problems: string[] = [];
    for (const [name, t] of [['A', a], ['B', b]] as const) {
      const { samples, snapshotUs } = await snapshotAfterTheWrites(t);
      for (const [window, length] of [['1h', HOUR_US], ['24h', DAY_US], ['7d', 7 * DAY_US]] as const) {
        for (const version of [...VERSIONS, 'all']) {
          const expected = twoPass(inOpenClosed(rows.filter((r) => version === 'all' || r.modelVersion === version), snapshotUs - length, snapshotUs), a.rules);
          for (const [gauge, value] of QUALITY_GAUGES) {
            const want = value(expected);
            const got = samplesOf(samples, gauge, { window, model_version: version }).map((s) => s.value);
            if (want === null ? got.length !== 0 : got.length !== 1 || !closeTo(got[0]!, want, 1e-9)) problems.push(`${name} ${gauge}{${window},${version}} = [${got.join(', ')}], expected ${want ?? 'no series'}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('counts on each replica only what it received: the counters of both sum to the traffic', async () => {
    const [samplesA, samplesB] = await Promise.all([a, b].map(async (t) => parsePrometheus((await t.get('/metrics', null)).body)));
    const total = (name: string, labels: Record<string, string> = {}) =>
      [samplesA!, samplesB!].map((samples) => samplesOf(samples, name, labels).reduce((sum, s) => sum + s.value, 0));
    for (const version of VERSIONS) {
      const ofVersion = planned.filter((p) => p.body.model_version === version);
      const [ingestedA, ingestedB] = total('ml_predictions_ingested_total', { model_version: version });
      expect(ingestedA! + ingestedB!).toBe(ofVersion.length);
      const [observedA, observedB] = total('ml_prediction_latency_seconds_count', { model_version: version });
      expect(observedA! + observedB!).toBe(ofVersion.filter((p) => p.live && p.hasLatency).length);
    }
    const [successA, successB] = total('ml_requests_total', { outcome: 'success' });
    expect(successA! + successB!).toBe(planned.filter((p) => p.live).length);
    const [actualsA, actualsB] = total('ml_actuals_ingested_total');
    expect([actualsA, actualsB]).toEqual([sent.actualsTo.get(a), sent.actualsTo.get(b)]);
    expect(total('ml_ingest_rejected_total').every((n) => n === 0)).toBe(true);
  });
});
