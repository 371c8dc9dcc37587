/**
 * The service's metrics against an independent two-pass computation over generated data:
 * several model versions, backfilled created_at spread over nine days (µs precision, points on
 * and next to window edges and inside partial edge minutes), actuals before predictions
 * (pending, then joined), late actuals, bookings predicted twice. Every expected value is
 * computed in this file from the raw records (test/support/reference.ts), never by the service.
 * Corrections are in corrections.test.ts (they have their own failure, see there).
 */
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import {
  inHalfOpen,
  inOpenClosed,
  isoFromMicros,
  metricsMismatches,
  microsFromIso,
  parsePrometheus,
  QUALITY_GAUGES,
  samplesOf,
  seededRandom,
  testSeed,
  twoPass,
  closeTo,
  type RawPrediction,
} from '../support/reference.js';
import { LIVE_AGE_MS } from '../../src/validate/prediction.js';
import { bodyOf, DAY_US, expectStatus, HOUR_US, inParallel, MINUTE_US, randomChunks, shuffle } from '../support/generate.js';

const VERSIONS = ['v1.0', 'v2.0', 'v3-canary'];
const RETIRED = 'v0-retired';

let t: TestApp;
const rows: RawPrediction[] = [];
let actualsSent = 0;
interface MsRange {
  name: string;
  fromMs: number;
  toMs: number;
}
/** Explicit (from, to] ranges in ms with points 1 µs, 999 µs, ... around their edges, none exactly on them. */
const ranges: MsRange[] = [];
/** Ranges with points exactly on `from` and on `to` (and 1 µs either side). */
const exactEdgeRanges: MsRange[] = [];
let nowUs = 0;

function generate(random: () => number): void {
  const nowMs = Date.now();
  nowUs = nowMs * 1000;
  // Windows that end "now" at request time (the gauges' 1h/24h/7d, /anomalies?hours=168|200):
  // keep data 4 minutes clear of their starts.
  const gaugeEdges = [HOUR_US, DAY_US, 7 * DAY_US, 200 * HOUR_US].map((w) => nowUs - w);
  // ...and a minute clear of the age at which a prediction stops counting as live traffic
  const clear = (us: number) =>
    gaugeEdges.every((e) => Math.abs(us - e) > 4 * MINUTE_US) && us < nowUs - 2 * MINUTE_US && Math.abs(us - liveSinceUs()) > MINUTE_US;
  let booking = 10_000;
  const make = (createdUs: number, modelVersion: string, labelled = random() < 0.8): RawPrediction => {
    const predicted = Math.round(random() * 2500) / 100;
    let actual: number | null = null;
    if (labelled) {
      const r = random();
      if (r < 0.05) actual = predicted + 3; // error exactly the tolerance: not accurate
      else if (r < 0.1) actual = predicted - 5; // error exactly the threshold: not an anomaly
      else if (r < 0.2) actual = predicted + 5 + random() * 20; // anomalies
      else actual = predicted + (random() - 0.5) * 6;
    }
    return {
      bookingId: booking++,
      createdUs,
      modelVersion,
      predicted,
      confidence: random(),
      latencyMs: random() < 0.2 ? null : 5 + Math.round(random() * 40_000) / 100,
      actual,
    };
  };
  // Bulk: spread over 8.5 days, µs precision.
  for (let i = 0; i < 700; i++) {
    const createdUs = nowUs - Math.floor(random() * 8.5 * DAY_US);
    if (!clear(createdUs)) continue;
    rows.push(make(createdUs, VERSIONS[Math.floor(random() * VERSIONS.length)]!));
  }
  // A version that left the 7-day window.
  for (let i = 0; i < 20; i++) rows.push(make(nowUs - 7 * DAY_US - 10 * MINUTE_US - Math.floor(random() * 1.5 * DAY_US), RETIRED));
  // A version only in the last hour.
  for (let i = 0; i < 12; i++) rows.push(make(nowUs - 10 * MINUTE_US - Math.floor(random() * 40 * MINUTE_US), 'v4-hotfix'));
  // Live traffic (everything else is history): created 2–3 minutes before it is sent, which
  // leaves 2 minutes for the sending before they would turn into history.
  for (let i = 0; i < 15; i++) rows.push(make(nowUs - 2 * MINUTE_US - 1 - Math.floor(random() * MINUTE_US), VERSIONS[i % VERSIONS.length]!));

  // Explicit ranges with points on their edges (ms-precise edges; points at µs).
  const unaligned = { name: 'unaligned 25 h', fromMs: nowMs - 30 * 3600_000 - 12_345, toMs: nowMs - 5 * 3600_000 + 7_891 };
  const minuteAt = (ms: number) => Math.floor(ms / 60_000) * 60_000;
  const aligned = { name: 'minute-aligned 48 h', fromMs: minuteAt(nowMs - 50 * 3600_000), toMs: minuteAt(nowMs - 2 * 3600_000) };
  const shortMs = nowMs - 3 * 3600_000 - 17_777;
  const short = { name: 'inside one minute', fromMs: shortMs, toMs: shortMs + 30_000 };
  const oneMs = nowMs - 4 * 3600_000 - 3;
  const tiny = { name: 'one millisecond', fromMs: oneMs, toMs: oneMs + 1 };
  const hourAligned = { name: 'hour-aligned 6 d', fromMs: Math.floor((nowMs - 6 * 86_400_000) / 3600_000) * 3600_000, toMs: Math.floor(nowMs / 3600_000) * 3600_000 - 3600_000 };
  ranges.push(unaligned, aligned, short, tiny, hourAligned);
  const place = (r: MsRange, offsets: number[], versions: string[] = []) => {
    const from = r.fromMs * 1000;
    const to = r.toMs * 1000;
    for (const [i, off] of offsets.entries()) {
      rows.push(make((i % 2 ? to : from) + off, versions[i] ?? VERSIONS[Math.floor(random() * VERSIONS.length)]!, true));
    }
  };
  // alternating from-side / to-side offsets
  for (const r of ranges) place(r, [-1, -1, 1, 1, 999, 1000, 59_000_000, 30_000_000]);
  exactEdgeRanges.push(
    { name: 'exact edges, unaligned', fromMs: nowMs - 20 * 3600_000 - 4_321, toMs: nowMs - 10 * 3600_000 + 1_234 },
    { name: 'exact edges, minute-aligned', fromMs: minuteAt(nowMs - 40 * 3600_000), toMs: minuteAt(nowMs - 30 * 3600_000) },
  );
  // the point on `from` and the one on `to` have different versions, so per-version counts show a shift
  for (const r of exactEdgeRanges) place(r, [0, 0, -1, 1, 1, -1], ['v1.0', 'v2.0']);
  // In the short range: a few more strictly inside.
  for (let i = 0; i < 6; i++) rows.push(make(short.fromMs * 1000 + 1 + Math.floor(random() * 29_999_999), VERSIONS[i % 3]!, true));
  // Bookings predicted twice (two versions, different times): one actual labels both.
  for (let i = 0; i < 30; i++) {
    const first = rows[Math.floor(random() * 300)]!;
    const createdUs = first.createdUs + Math.floor(random() * 2 * HOUR_US);
    if (!clear(createdUs)) continue;
    rows.push({ ...make(createdUs, VERSIONS[(VERSIONS.indexOf(first.modelVersion) + 1) % 3] ?? 'v1.0'), bookingId: first.bookingId, actual: first.actual });
  }
}

function liveSinceUs(): number {
  return nowUs - LIVE_AGE_MS * 1000;
}

function actualOf(bookingId: number): number | null {
  return rows.find((r) => r.bookingId === bookingId)!.actual;
}

beforeAll(async () => {
  const random = seededRandom(testSeed('metrics-reference'));
  t = await startTestApp(); // first, so that "now" below is close to the sending
  generate(random);
  const labelledBookings = [...new Set(rows.filter((r) => r.actual !== null).map((r) => r.bookingId))];
  const early = new Set(labelledBookings.filter(() => random() < 0.25));
  const actualBody = (id: number) => ({ booking_id: id, actual_delay_minutes: actualOf(id)! });
  // 1. a quarter of the actuals before their predictions: pending
  for (const chunk of randomChunks([...early], 80, random)) {
    const res = await t.post(`${API}/actuals`, chunk.map(actualBody));
    expectStatus(res, 200, 'early actuals');
    expect(res.json()).toEqual({ updated: 0, pending: chunk.length });
    actualsSent += chunk.length;
  }
  // 2. the predictions, shuffled, in batches (some single objects), 4 requests in flight
  const tasks = randomChunks(shuffle(rows, random), 120, random).map((chunk) => async () => {
    const body = chunk.length === 1 && random() < 0.7 ? bodyOf(chunk[0]!) : chunk.map((p) => bodyOf(p));
    const res = await t.post(`${API}/predictions`, body);
    expectStatus(res, 201, 'predictions');
    expect(res.json()).toEqual({ accepted: chunk.length, duplicates: 0 });
  });
  await inParallel(tasks, 4);
  // 3. the other actuals, late
  const late = labelledBookings.filter((id) => !early.has(id));
  for (const chunk of randomChunks(shuffle(late, random), 150, random)) {
    const res = await t.post(`${API}/actuals`, chunk.map(actualBody));
    expectStatus(res, 200, 'late actuals');
    expect(res.json().pending).toBe(0);
    actualsSent += chunk.length;
  }
}, 60_000);
afterAll(() => t?.close());

const versionsAndFleet = [undefined, ...VERSIONS, RETIRED, 'v4-hotfix'];
const q = (version: string | undefined) => (version === undefined ? '' : `&model_version=${encodeURIComponent(version)}`);

describe('metrics vs an independent two-pass computation', () => {
  it('stores every prediction with the right label (pending actuals joined on arrival)', async () => {
    const stored = await t.db.sql<{ booking_id: number; model_version: string; prediction_error: number | null; is_accurate: boolean | null; actual_delay_minutes: number | null; created_us: number }[]>`
      select booking_id, model_version, prediction_error, is_accurate, actual_delay_minutes,
             (extract(epoch from created_at) * 1000000)::float8 as created_us
      from ml_prediction`;
    expect(stored).toHaveLength(rows.length);
    const byKey = new Map(rows.map((r) => [`${r.bookingId}|${r.modelVersion}|${r.createdUs}`, r]));
    const problems: string[] = [];
    for (const s of stored) {
      const r = byKey.get(`${s.booking_id}|${s.model_version}|${s.created_us}`);
      if (!r) {
        problems.push(`unexpected row ${JSON.stringify(s)}`);
        continue;
      }
      const error = r.actual === null ? null : Math.abs(r.predicted - r.actual);
      if (s.actual_delay_minutes !== r.actual) problems.push(`booking ${r.bookingId}: actual ${s.actual_delay_minutes}, expected ${r.actual}`);
      if (error === null ? s.prediction_error !== null : !closeTo(s.prediction_error ?? NaN, error, 1e-12)) problems.push(`booking ${r.bookingId}: error ${s.prediction_error}, expected ${error}`);
      if (s.is_accurate !== (error === null ? null : error < 3)) problems.push(`booking ${r.bookingId}: is_accurate ${s.is_accurate} with error ${error}`);
    }
    expect(problems).toEqual([]);
  });

  it('GET /metrics over explicit (from, to] ranges (points 1 µs around the edges, partial edge minutes), fleet and per version', async () => {
    const problems: string[] = [];
    for (const r of ranges) {
      for (const version of versionsAndFleet) {
        const from = new Date(r.fromMs).toISOString();
        const to = new Date(r.toMs).toISOString();
        const res = await t.get(`${API}/metrics?from=${from}&to=${to}${q(version)}`);
        expectStatus(res, 200, `metrics ${r.name}`);
        const subset = inOpenClosed(rows.filter((p) => version === undefined || p.modelVersion === version), r.fromMs * 1000, r.toMs * 1000);
        problems.push(...metricsMismatches(res.json(), twoPass(subset, t.rules), `${r.name}/${version ?? 'fleet'}`));
        expect(res.json()).toMatchObject({ from, to });
        expect(res.json().period_hours).toBeCloseTo((r.toMs - r.fromMs) / 3600_000, 9);
      }
    }
    expect(problems).toEqual([]);
  });

  // Windows are (from, to]: a prediction created exactly at `from` is out, one exactly at `to` is in.
  it('points exactly on the edges: from excluded, to included (membership via /anomalies?threshold=0)', async () => {
    const problems: string[] = [];
    for (const r of exactEdgeRanges) {
      const fromUs = r.fromMs * 1000;
      const toUs = r.toMs * 1000;
      const res = await t.get(`${API}/anomalies?from=${new Date(r.fromMs).toISOString()}&to=${new Date(r.toMs).toISOString()}&threshold=0&limit=10000`);
      expectStatus(res, 200, 'anomalies');
      const listed = new Set((res.json() as { booking_id: number }[]).map((p) => p.booking_id));
      for (const p of rows.filter((x) => Math.abs(x.createdUs - fromUs) <= 1 || Math.abs(x.createdUs - toUs) <= 1)) {
        const inside = p.createdUs > fromUs && p.createdUs <= toUs;
        const edge = Math.abs(p.createdUs - fromUs) <= 1 ? `from${p.createdUs - fromUs >= 0 ? '+' : ''}${p.createdUs - fromUs}µs` : `to${p.createdUs - toUs >= 0 ? '+' : ''}${p.createdUs - toUs}µs`;
        if (p.actual !== null && p.actual !== p.predicted && listed.has(p.bookingId) !== inside) {
          problems.push(`${r.name}: the prediction at ${edge} is ${listed.has(p.bookingId) ? 'in' : 'out of'} the window, expected ${inside ? 'in' : 'out'}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('GET /metrics over ranges with points exactly on the edges equals the reference', async () => {
    const problems: string[] = [];
    for (const r of exactEdgeRanges) {
      for (const version of [undefined, ...VERSIONS]) {
        const res = await t.get(`${API}/metrics?from=${new Date(r.fromMs).toISOString()}&to=${new Date(r.toMs).toISOString()}${q(version)}`);
        const subset = inOpenClosed(rows.filter((p) => version === undefined || p.modelVersion === version), r.fromMs * 1000, r.toMs * 1000);
        problems.push(...metricsMismatches(res.json(), twoPass(subset, t.rules), `${r.name}/${version ?? 'fleet'}`).filter((m) => /\.(predictions|count):/.test(m)));
      }
    }
    expect(problems).toEqual([]);
  });

  it('GET /metrics?hours=H (window (now - H, now] as reported), fleet and per version', async () => {
    const problems: string[] = [];
    for (const hours of [1, 6.5, 24, 168, 200]) {
      for (const version of versionsAndFleet) {
        const before = Date.now();
        const res = await t.get(`${API}/metrics?hours=${hours}${q(version)}`);
        expectStatus(res, 200, 'metrics hours');
        const m = res.json();
        expect(m.period_hours).toBe(hours);
        const toUs = microsFromIso(m.to);
        expect(toUs).toBeGreaterThanOrEqual(before * 1000);
        expect(toUs - microsFromIso(m.from)).toBe(hours * HOUR_US);
        const subset = inOpenClosed(rows.filter((p) => version === undefined || p.modelVersion === version), microsFromIso(m.from), toUs);
        problems.push(...metricsMismatches(m, twoPass(subset, t.rules), `hours=${hours}/${version ?? 'fleet'}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it('GET /daily: UTC calendar days, today ending now, empty days with count 0', async () => {
    const problems: string[] = [];
    for (const version of [undefined, 'v2.0', RETIRED]) {
      const res = await t.get(`${API}/daily?days=10${q(version)}`);
      expectStatus(res, 200, 'daily');
      const days = res.json() as ({ date: string } & Record<string, unknown>)[];
      expect(days).toHaveLength(10);
      const todayStart = Math.floor(Date.now() / 86_400_000) * DAY_US;
      days.forEach((day, i) => {
        const startUs = todayStart - (9 - i) * DAY_US;
        expect(day.date).toBe(isoFromMicros(startUs).slice(0, 10));
        const subset = inHalfOpen(rows.filter((p) => version === undefined || p.modelVersion === version), startUs, startUs + DAY_US);
        problems.push(...metricsMismatches(day, twoPass(subset, t.rules), `daily ${day.date}/${version ?? 'fleet'}`));
      });
    }
    expect(problems).toEqual([]);
  });

  it('GET /timeseries: every bucket [k·step, (k+1)·step) ∩ (from, to] exact, fleet and per version', async () => {
    const problems: string[] = [];
    const cases = [
      { range: ranges[0]!, step: 3600, versions: undefined },
      { range: ranges[0]!, step: 7200, versions: ['v1.0', 'v3-canary', 'no-such-version'] },
      { range: ranges[1]!, step: 86_400, versions: undefined },
      { range: ranges[4]!, step: 21_600, versions: ['v2.0'] },
      { range: { name: 'around the short range', fromMs: ranges[2]!.fromMs - 5 * 60_000 - 1, toMs: ranges[2]!.toMs + 3 * 60_000 }, step: 60, versions: undefined },
    ];
    for (const c of cases) {
      const from = new Date(c.range.fromMs).toISOString();
      const to = new Date(c.range.toMs).toISOString();
      const res = await t.get(`${API}/timeseries?from=${from}&to=${to}&step=${c.step}${c.versions ? `&model_version=${c.versions.join(',')}` : ''}`);
      expectStatus(res, 200, 'timeseries');
      const body = res.json();
      expect(body).toMatchObject({ from, to, step_seconds: c.step });
      const names = c.versions ?? ['all'];
      expect(body.series.map((s: { model_version: string }) => s.model_version)).toEqual(names);
      const stepUs = c.step * 1_000_000;
      const fromUs = c.range.fromMs * 1000;
      const toUs = c.range.toMs * 1000;
      // The buckets that (from, to] touches.
      const first = Math.floor((fromUs + 1) / stepUs);
      const last = Math.floor(toUs / stepUs);
      for (const [si, name] of names.entries()) {
        const points = body.series[si].points as ({ time: string } & Record<string, unknown>)[];
        if (points.length !== last - first + 1) problems.push(`${c.range.name}/${name}: ${points.length} points, expected ${last - first + 1}`);
        for (let k = first; k <= last; k++) {
          const point = points[k - first];
          if (!point) continue;
          const expectedTime = new Date(Math.max(k * stepUs, fromUs) / 1000).toISOString();
          if (point.time !== expectedTime) problems.push(`${c.range.name}/${name} point ${k - first}: time ${point.time}, expected ${expectedTime}`);
          const pool = rows.filter((p) => name === 'all' || p.modelVersion === name);
          const subset = inOpenClosed(inHalfOpen(pool, k * stepUs, (k + 1) * stepUs), fromUs, toUs);
          problems.push(...metricsMismatches(point, twoPass(subset, t.rules), `${c.range.name}/${name}@${point.time}`));
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('GET /summary: totals, 24 h and 7 d metrics, anomalies_count', async () => {
    const res = await t.get(`${API}/summary`);
    expectStatus(res, 200, 'summary');
    const s = res.json();
    expect(s.total_predictions).toBe(rows.length);
    const problems: string[] = [];
    for (const key of ['metrics_24h', 'metrics_7d']) {
      const m = s[key];
      problems.push(...metricsMismatches(m, twoPass(inOpenClosed(rows, microsFromIso(m.from), microsFromIso(m.to)), t.rules), key));
    }
    expect(problems).toEqual([]);
    expect(s.anomalies_count).toBe(twoPass(inOpenClosed(rows, microsFromIso(s.metrics_24h.from), microsFromIso(s.metrics_24h.to)), t.rules).anomalies);
    expect(s.feature_flags.ml_successes).toBe(s.metrics_24h.predictions);
  });

  it('GET /anomalies: exactly the window\'s predictions with error > threshold, newest first', async () => {
    const r = ranges[0]!;
    for (const [query, threshold, fromUs, toUs] of [
      [`hours=168`, 5, nowUs - 7 * DAY_US, Date.now() * 1000],
      [`hours=200&threshold=2.5`, 2.5, nowUs - 200 * HOUR_US, Date.now() * 1000],
      [`from=${new Date(r.fromMs).toISOString()}&to=${new Date(r.toMs).toISOString()}&threshold=0`, 0, r.fromMs * 1000, r.toMs * 1000],
    ] as [string, number, number, number][]) {
      const res = await t.get(`${API}/anomalies?${query}&limit=10000`);
      expectStatus(res, 200, 'anomalies');
      const expected = inOpenClosed(rows, fromUs, toUs)
        .filter((p) => p.actual !== null && Math.abs(p.predicted - p.actual) > threshold)
        .sort((a, b) => b.createdUs - a.createdUs);
      const got = res.json() as { booking_id: number; created_at: string; prediction_error: number }[];
      expect(got.map((p) => p.booking_id).sort()).toEqual(expected.map((p) => p.bookingId).sort());
      for (let i = 1; i < got.length; i++) expect(Date.parse(got[i - 1]!.created_at)).toBeGreaterThanOrEqual(Date.parse(got[i]!.created_at));
      expect(got.every((p) => p.prediction_error > threshold)).toBe(true);
    }
  });

  it('GET /model-versions: the versions of the window', async () => {
    const res = await t.get(`${API}/model-versions?hours=168`);
    const expected = [...new Set(rows.filter((p) => p.createdUs > nowUs - 7 * DAY_US).map((p) => p.modelVersion))].sort();
    expect(res.json()).toEqual({ model_versions: expected });
    expect(expected).not.toContain(RETIRED);
    expect((await t.get(`${API}/model-versions?hours=216`)).json().model_versions).toContain(RETIRED);
  });

  it('GET /metrics (Prometheus): every quality gauge per window and version equals the reference, in base units', async () => {
    const res = await t.get('/metrics', null);
    expectStatus(res, 200, '/metrics');
    const scrapeUs = Date.now() * 1000;
    const samples = parsePrometheus(res.body);
    const windows: [string, number][] = [['1h', HOUR_US], ['24h', DAY_US], ['7d', 7 * DAY_US]];
    const seen7d = [...new Set(rows.filter((p) => p.createdUs > scrapeUs - 7 * DAY_US).map((p) => p.modelVersion))];
    const problems: string[] = [];
    for (const [name] of QUALITY_GAUGES) {
      const versions = new Set(samplesOf(samples, name).map((s) => s.labels.model_version));
      for (const v of versions) if (v !== 'all' && !seen7d.includes(v!)) problems.push(`${name} has a series for ${v}, not seen in 7 days`);
    }
    for (const [window, length] of windows) {
      for (const version of [...seen7d, 'all']) {
        const subset = inOpenClosed(rows.filter((p) => version === 'all' || p.modelVersion === version), scrapeUs - length, scrapeUs);
        const expected = twoPass(subset, t.rules);
        for (const [name, value] of QUALITY_GAUGES) {
          const want = value(expected);
          const got = samplesOf(samples, name, { window, model_version: version });
          if (want === null) {
            if (got.length !== 0) problems.push(`${name}{${window},${version}} = ${got[0]!.value}, expected no series`);
          } else if (got.length !== 1) {
            problems.push(`${name}{${window},${version}}: ${got.length} series, expected 1 with ${want}`);
          } else if (!closeTo(got[0]!.value, want, 1e-9)) {
            problems.push(`${name}{${window},${version}} = ${got[0]!.value}, expected ${want}`);
          }
        }
      }
    }
    expect(seen7d).not.toContain(RETIRED);
    expect(samplesOf(samples, 'ml_prediction_window_predictions', { model_version: RETIRED })).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('GET /metrics (Prometheus): ingest counters count every row, requests and latencies only the live ones', async () => {
    const samples = parsePrometheus((await t.get('/metrics', null)).body);
    const live = rows.filter((p) => p.createdUs >= liveSinceUs());
    expect(live.length).toBeGreaterThan(0);
    for (const version of [...VERSIONS, RETIRED, 'v4-hotfix']) {
      const mine = rows.filter((p) => p.modelVersion === version);
      expect(samplesOf(samples, 'ml_predictions_ingested_total', { model_version: version })[0]?.value).toBe(mine.length);
      const latencies = live.filter((p) => p.modelVersion === version && p.latencyMs !== null).map((p) => p.latencyMs! / 1000);
      // a version without live rows has no latency series
      const latency = (suffix: string, le?: string) =>
        samplesOf(samples, `ml_prediction_latency_seconds_${suffix}`, { model_version: version, ...(le ? { le } : {}) })[0]?.value ?? 0;
      expect(latency('count')).toBe(latencies.length);
      expect(latency('sum')).toBeCloseTo(latencies.reduce((a, b) => a + b, 0), 6);
      expect(latency('bucket', '0.15')).toBe(latencies.filter((l) => l <= 0.15).length);
    }
    expect(samplesOf(samples, 'ml_actuals_ingested_total')[0]?.value).toBe(actualsSent);
    expect(samplesOf(samples, 'ml_requests_total', { outcome: 'success' })[0]?.value).toBe(live.length);
  });
});
