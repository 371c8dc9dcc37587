/**
 * Every route of docs/api.md through the real app on real PostgreSQL: status codes, response
 * shapes and the seed's worked example.
 */
import { API, startTestApp, tableCounts, type TestApp } from '../support/app-harness.js';

const METRICS_KEYS = [
  'period_hours', 'from', 'to', 'predictions', 'count', 'mae', 'rmse', 'bias', 'r2', 'accuracy_rate',
  'avg_confidence', 'avg_prediction_time_ms', 'anomalies',
].sort();
const PREDICTION_KEYS = [
  'id', 'booking_id', 'driver_id', 'request_id', 'predicted_delay_minutes', 'confidence', 'risk_level',
  'contributing_factors', 'model_version', 'prediction_time_ms', 'feature_flag_enabled', 'traffic_percentage',
  'actual_delay_minutes', 'actual_pickup_at', 'actual_dropoff_at', 'prediction_error', 'is_accurate',
  'created_at', 'updated_at',
].sort();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const seedPrediction = {
  booking_id: 101,
  driver_id: 7,
  request_id: 'req-101',
  predicted_delay_minutes: 8.5,
  confidence: 0.92,
  risk_level: 'medium',
  contributing_factors: { distance_x_weather: 0.42, rush_hour: -0.1 },
  model_version: 'v1.2.0',
  prediction_time_ms: 87.5,
  feature_flag_enabled: true,
  traffic_percentage: 25,
};

describe('writes', () => {
  it('POST /predictions stores one prediction: 201 {accepted, duplicates}', async () => {
    const res = await t.post(`${API}/predictions`, seedPrediction);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('POST /actuals labels it: the seed example 8.5 vs 9.2 -> error 0.7 -> accurate', async () => {
    const res = await t.post(`${API}/actuals`, {
      booking_id: 101,
      actual_delay_minutes: 9.2,
      actual_pickup_at: '2026-01-02T03:04:05.678Z',
      actual_dropoff_at: '2026-01-02T03:34:05Z',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ updated: 1, pending: 0 });
    const [row] = (await t.get(`${API}/predictions?limit=1`)).json();
    expect(row.actual_delay_minutes).toBe(9.2);
    expect(row.prediction_error).toBeCloseTo(0.7, 12);
    expect(row.is_accurate).toBe(true);
    expect(new Date(row.actual_pickup_at).toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(new Date(row.actual_dropoff_at).toISOString()).toBe('2026-01-02T03:34:05.000Z');
  });

  it('GET /predictions returns every stored field, as sent', async () => {
    const res = await t.get(`${API}/predictions`);
    expect(res.statusCode).toBe(200);
    const [row] = res.json();
    expect(Object.keys(row).sort()).toEqual(PREDICTION_KEYS);
    expect(row).toMatchObject({ ...seedPrediction, contributing_factors: seedPrediction.contributing_factors });
    expect(row.created_at).toMatch(ISO);
    expect(row.updated_at).toMatch(ISO);
    expect(Number.isInteger(row.id)).toBe(true);
  });

  it('optional fields absent: model_version "unknown", the rest null', async () => {
    expect((await t.post(`${API}/predictions`, { booking_id: 102, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' })).statusCode).toBe(201);
    const [row] = (await t.get(`${API}/predictions?limit=1`)).json();
    expect(row).toMatchObject({
      booking_id: 102,
      model_version: 'unknown',
      driver_id: null,
      request_id: null,
      contributing_factors: null,
      prediction_time_ms: null,
      feature_flag_enabled: null,
      traffic_percentage: null,
      actual_delay_minutes: null,
      prediction_error: null,
      is_accurate: null,
    });
  });

  it('POST /actuals for a booking not predicted yet: pending', async () => {
    const res = await t.post(`${API}/actuals`, [{ booking_id: 999_001, actual_delay_minutes: 4 }]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ updated: 0, pending: 1 });
  });

  it('PUT /feature-flags (the seed\'s activate_ml --enable --percentage 25), GET reflects it', async () => {
    const res = await t.put(`${API}/feature-flags`, { ml_enabled: true, ml_traffic_percentage: 25 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ml_enabled: true, ml_traffic_percentage: 25 });
    expect(res.json().updated_at).toMatch(ISO);
    const get = await t.get(`${API}/feature-flags`);
    expect(get.statusCode).toBe(200);
    expect(Object.keys(get.json()).sort()).toEqual(['ml_enabled', 'ml_traffic_percentage', 'updated_at']);
    expect(get.json()).toMatchObject({ ml_enabled: true, ml_traffic_percentage: 25 });
    // a partial update keeps the other field
    expect((await t.put(`${API}/feature-flags`, { ml_traffic_percentage: 50 })).json()).toMatchObject({ ml_enabled: true, ml_traffic_percentage: 50 });
    expect((await t.put(`${API}/feature-flags`, {})).statusCode).toBe(400);
    expect((await t.put(`${API}/feature-flags`, { ml_traffic_percentage: 101 })).statusCode).toBe(400);
    expect((await t.put(`${API}/feature-flags`, { ml_enabled: 'yes' })).statusCode).toBe(400);
    expect((await t.get(`${API}/feature-flags`)).json()).toMatchObject({ ml_enabled: true, ml_traffic_percentage: 50 });
    await t.put(`${API}/feature-flags`, { ml_traffic_percentage: 25 });
  });

  it('GET /feature-flags/decision is deterministic and monotonic in the percentage', async () => {
    const decisions: boolean[] = [];
    for (const id of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const a = await t.get(`${API}/feature-flags/decision?booking_id=${id}`);
      const b = await t.get(`${API}/feature-flags/decision?booking_id=${id}`);
      expect(a.statusCode).toBe(200);
      expect(a.json()).toEqual(b.json());
      expect(Object.keys(a.json()).sort()).toEqual(['booking_id', 'ml_enabled', 'ml_traffic_percentage', 'use_ml']);
      expect(a.json()).toMatchObject({ booking_id: id, ml_enabled: true, ml_traffic_percentage: 25 });
      decisions.push(a.json().use_ml);
    }
    await t.put(`${API}/feature-flags`, { ml_traffic_percentage: 75 });
    for (const [i, id] of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].entries()) {
      const at75 = (await t.get(`${API}/feature-flags/decision?booking_id=${id}`)).json().use_ml;
      if (decisions[i]) expect(at75).toBe(true);
    }
    await t.put(`${API}/feature-flags`, { ml_enabled: false });
    expect((await t.get(`${API}/feature-flags/decision?booking_id=1`)).json().use_ml).toBe(false);
    expect((await t.get(`${API}/feature-flags/decision`)).statusCode).toBe(400);
    expect((await t.get(`${API}/feature-flags/decision?booking_id=-1`)).statusCode).toBe(400);
    await t.put(`${API}/feature-flags`, { ml_enabled: true, ml_traffic_percentage: 25 });
  });

  it('POST /prediction-failures counts failures: 201 {recorded}', async () => {
    expect((await t.post(`${API}/prediction-failures`, { count: 3, model_version: 'v1.2.0', reason: 'timeout' })).json()).toEqual({ recorded: 3 });
    const res = await t.post(`${API}/prediction-failures`, {});
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ recorded: 1 });
    expect((await t.post(`${API}/prediction-failures`, { count: 0 })).statusCode).toBe(400);
    // every field has a default, so no body at all (curl -X POST) is one failure too
    const bare = await t.raw({ method: 'POST', path: `${API}/prediction-failures`, headers: { authorization: `Bearer ${t.tokens.ingest}` } });
    expect([bare.statusCode, bare.json()]).toEqual([201, { recorded: 1 }]);
    // ... also from clients that always send a JSON Content-Type
    const emptyJson = await t.raw({ method: 'POST', path: `${API}/prediction-failures`, headers: { authorization: `Bearer ${t.tokens.ingest}`, 'content-type': 'application/json' } });
    expect([emptyJson.statusCode, emptyJson.json()]).toEqual([201, { recorded: 1 }]);
    // elsewhere an empty body stays a mistake
    const emptyPrediction = await t.raw({ method: 'POST', path: `${API}/predictions`, headers: { authorization: `Bearer ${t.tokens.ingest}`, 'content-type': 'application/json' } });
    expect([emptyPrediction.statusCode, emptyPrediction.json().message]).toEqual([400, 'invalid body: the body is empty; send JSON']);
    expect((await tableCounts(t.db)).failures).toBe(6);
  });
});

describe('reads', () => {
  it('GET /metrics: a metrics object over (now - 24 h, now] by default', async () => {
    const before = Date.now();
    const res = await t.get(`${API}/metrics`);
    const after = Date.now();
    expect(res.statusCode).toBe(200);
    const m = res.json();
    expect(Object.keys(m).sort()).toEqual(METRICS_KEYS);
    expect(m.period_hours).toBe(24);
    expect(Date.parse(m.to)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(m.to)).toBeLessThanOrEqual(after);
    expect(Date.parse(m.to) - Date.parse(m.from)).toBe(24 * 3600_000);
    // 101 (labelled, 0.7) and 102 (unlabelled)
    expect(m).toMatchObject({ predictions: 2, count: 1, r2: null, accuracy_rate: 1, anomalies: 0 });
    expect(m.mae).toBeCloseTo(0.7, 12);
    expect(m.rmse).toBeCloseTo(0.7, 12);
    expect(m.avg_confidence).toBeCloseTo((0.92 + 0.5) / 2, 12);
    expect(m.avg_prediction_time_ms).toBe(87.5); // only 101 reported a latency
  });

  it('GET /metrics?hours=H and ?from&to and ?model_version', async () => {
    const res = await t.get(`${API}/metrics?hours=0.5&model_version=v1.2.0`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ period_hours: 0.5, predictions: 1, count: 1 });
    const now = Date.now(); // once: two clock reads may differ by a millisecond
    const from = new Date(now - 3600_000).toISOString();
    const to = new Date(now + 60_000).toISOString();
    const range = await t.get(`${API}/metrics?from=${from}&to=${to}`);
    expect(range.statusCode).toBe(200);
    expect(range.json()).toMatchObject({ from, to, predictions: 2 });
    expect(range.json().period_hours).toBeCloseTo(61 / 60, 9);
    // Windows in fractions of a microsecond: rounded to whole ones (an empty window is no error).
    for (const hours of ['5e-324', '7.534722222222224e-9']) {
      const tiny = await t.get(`${API}/metrics?hours=${hours}`);
      expect(tiny.statusCode).toBe(200);
      expect(tiny.json()).toMatchObject({ predictions: 0, count: 0 });
    }
    const none = await t.get(`${API}/metrics?model_version=nope`);
    expect(none.json()).toMatchObject({ predictions: 0, count: 0, mae: null, rmse: null, r2: null, accuracy_rate: null, avg_confidence: null, avg_prediction_time_ms: null, anomalies: 0 });
  });

  it('GET /daily: exactly `days` UTC days ending today, oldest first', async () => {
    const res = await t.get(`${API}/daily?days=3`);
    expect(res.statusCode).toBe(200);
    const days = res.json();
    expect(days).toHaveLength(3);
    const today = new Date().toISOString().slice(0, 10);
    const dates = [2, 1, 0].map((back) => new Date(Date.parse(today) - back * 86_400_000).toISOString().slice(0, 10));
    expect(days.map((d: { date: string }) => d.date)).toEqual(dates);
    for (const d of days) expect(Object.keys(d).sort()).toEqual([...METRICS_KEYS, 'date'].sort());
    expect(days[0]).toMatchObject({ predictions: 0, count: 0, mae: null });
    expect(days[2]).toMatchObject({ predictions: 2, count: 1 });
    expect((await t.get(`${API}/daily`)).json()).toHaveLength(7);
    expect((await t.get(`${API}/daily?days=366`)).json()).toHaveLength(366);
    for (const bad of ['0', '367', '1.5', 'x']) expect((await t.get(`${API}/daily?days=${bad}`)).statusCode).toBe(400);
  });

  it('GET /timeseries: buckets aligned to step, fleet or per version', async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 3 * 3600_000);
    const res = await t.get(`${API}/timeseries?from=${from.toISOString()}&to=${to.toISOString()}&step=3600`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ from: from.toISOString(), to: to.toISOString(), step_seconds: 3600 });
    expect(body.series).toHaveLength(1);
    expect(body.series[0].model_version).toBe('all');
    const points = body.series[0].points;
    // (from, to] with from not aligned: 4 hour buckets, the first clipped to start at from
    expect(points).toHaveLength(4);
    expect(points[0].time).toBe(from.toISOString());
    for (const p of points.slice(1)) expect(Date.parse(p.time) % 3600_000).toBe(0);
    expect(points.reduce((s: number, p: { predictions: number }) => s + p.predictions, 0)).toBe(2);
    const versions = await t.get(`${API}/timeseries?from=${from.toISOString()}&to=${to.toISOString()}&step=3600&model_version=v1.2.0,unknown,none`);
    expect(versions.json().series.map((s: { model_version: string }) => s.model_version)).toEqual(['v1.2.0', 'unknown', 'none']);
    expect((await t.get(`${API}/timeseries`)).statusCode).toBe(400);
    expect((await t.get(`${API}/timeseries?from=${from.toISOString()}&to=${to.toISOString()}&step=90`)).statusCode).toBe(400);
  });

  it('a version list where one version is taken is a 400, not a filter that matches nothing', async () => {
    for (const route of ['/metrics', '/daily', '/anomalies', '/predictions']) {
      const res = await t.get(`${API}${route}?model_version=v1,v2`);
      expect([route, res.statusCode, res.json().message]).toEqual([
        route,
        400,
        'invalid query: query.model_version must not contain commas, NUL characters or unpaired surrogates, nor start or end with whitespace',
      ]);
    }
    expect((await t.get(`${API}/metrics?model_version=all`)).statusCode).toBe(200);
  });

  it('GET /timeseries answers up to 11,000 points per series, and refuses one more', async () => {
    for (const from of ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:30.000Z']) {
      // (from, to] touches minutes + 1 one-minute buckets, aligned or not.
      const toAfter = (minutes: number) => new Date(Date.parse(from) + minutes * 60_000).toISOString();
      const most = await t.get(`${API}/timeseries?from=${from}&to=${toAfter(10_999)}&step=60`);
      expect([from, most.statusCode, most.json().series[0].points.length]).toEqual([from, 200, 11_000]);
      const tooMany = await t.get(`${API}/timeseries?from=${from}&to=${toAfter(11_000)}&step=60`);
      expect([from, tooMany.statusCode, tooMany.json().message]).toEqual([
        from,
        400,
        'invalid query: query.step gives more than 11000 points for this range; use a larger step',
      ]);
    }
  });

  it('GET /timeseries answers at most 22,000 points in all, however many versions it lists', async () => {
    const from = '2025-01-01T00:00:00.000Z';
    const to = new Date(Date.parse(from) + 5_499 * 60_000).toISOString(); // (from, to] touches 5,500 one-minute buckets
    const versions = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`).join(',');
    const four = await t.get(`${API}/timeseries?from=${from}&to=${to}&step=60&model_version=${versions(4)}`);
    expect(four.statusCode).toBe(200);
    expect(four.json().series.map((s: { points: unknown[] }) => s.points.length)).toEqual([5_500, 5_500, 5_500, 5_500]);
    const five = await t.get(`${API}/timeseries?from=${from}&to=${to}&step=60&model_version=${versions(5)}`);
    expect(five.statusCode).toBe(400);
    expect(five.json().message).toBe('invalid query: query.model_version asks for 5 series of 5500 points, more than 22000 in all; use fewer versions or a larger step');
    expect((await t.get(`${API}/timeseries?from=${from}&to=${to}&step=120&model_version=${versions(5)}`)).statusCode).toBe(200);
  });

  it('created_at with a UTC offset is stored as the same instant', async () => {
    expect((await t.post(`${API}/predictions`, { booking_id: 4001, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low', model_version: 'offset', created_at: '2026-01-01T05:30:00.123456+05:30' })).statusCode).toBe(201);
    const [row] = (await t.get(`${API}/predictions?model_version=offset`)).json();
    expect(new Date(row.created_at).toISOString()).toBe('2026-01-01T00:00:00.123Z');
    const [db] = await t.db.sql`select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as t from ml_prediction where model_version = 'offset'`;
    expect(db!.t).toBe('2026-01-01T00:00:00.123456');
  });

  it('GET /predictions pages newest first with X-Next-Cursor and Link', async () => {
    const batch = Array.from({ length: 25 }, (_, i) => ({
      booking_id: 2000 + i,
      predicted_delay_minutes: i,
      confidence: 0.5,
      risk_level: 'low',
      model_version: i % 2 ? 'odd' : 'even',
      created_at: new Date(Date.now() - (i + 1) * 60_000).toISOString(),
    }));
    expect((await t.post(`${API}/predictions`, batch)).statusCode).toBe(201);
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await t.get(`${API}/predictions?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().map((p: { id: number }) => p.id));
      cursor = res.headers['x-next-cursor'] as string | undefined;
      if (cursor) expect(res.headers.link).toContain(`cursor=${cursor}`);
      else expect(res.headers.link).toBeUndefined();
      pages++;
    } while (cursor && pages < 20);
    const total = (await tableCounts(t.db)).predictions;
    expect(total).toBeGreaterThanOrEqual(27);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    const all = (await t.get(`${API}/predictions?limit=1000`)).json() as { id: number; created_at: string }[];
    expect(all.map((p) => p.id)).toEqual(seen);
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i - 1]!.created_at)).toBeGreaterThanOrEqual(Date.parse(all[i]!.created_at));
    const firstOdd = await t.get(`${API}/predictions?model_version=odd&limit=5`);
    expect(firstOdd.headers.link).toContain('model_version=odd'); // the next link keeps the filter
    const nextOdd = await t.get(String(firstOdd.headers.link).replace(/^<([^>]+)>.*$/, '$1'));
    expect(nextOdd.statusCode).toBe(200);
    expect(nextOdd.json().every((p: { model_version: string }) => p.model_version === 'odd')).toBe(true);
    expect(nextOdd.json()).toHaveLength(5);
    const odd = (await t.get(`${API}/predictions?model_version=odd&limit=1000`)).json();
    expect(odd).toHaveLength(12);
    expect(odd.every((p: { model_version: string }) => p.model_version === 'odd')).toBe(true);
    for (const bad of ['0', '1001', 'x']) expect((await t.get(`${API}/predictions?limit=${bad}`)).statusCode).toBe(400);
  });

  it('GET /predictions?from&to: only those created in (from, to], paged with the range kept', async () => {
    // A past hour no other test writes into, so the expected rows are exactly these.
    const at = (minute: number) => new Date(Date.UTC(2025, 2, 3, 10, minute)).toISOString();
    await t.post(`${API}/predictions`, [0, 10, 20, 30, 40, 50, 60].map((minute) => ({
      booking_id: 4000 + minute,
      predicted_delay_minutes: 1,
      confidence: 0.5,
      risk_level: 'low',
      created_at: at(minute),
    })));
    const from = at(10);
    const to = at(50);
    const inRange = [50, 40, 30, 20].map((minute) => 4000 + minute); // (from, to]: 10 out, 50 in
    const all = await t.get(`${API}/predictions?from=${from}&to=${to}`);
    expect(all.statusCode).toBe(200);
    expect(all.json().map((p: { booking_id: number }) => p.booking_id)).toEqual(inRange);
    expect(all.headers['x-next-cursor']).toBeUndefined();

    const first = await t.get(`${API}/predictions?from=${from}&to=${to}&limit=3`);
    expect(first.json().map((p: { booking_id: number }) => p.booking_id)).toEqual(inRange.slice(0, 3));
    const next = String(first.headers.link).replace(/^<([^>]+)>.*$/, '$1');
    expect(new URLSearchParams(next.split('?')[1]).get('from')).toBe(from);
    expect(new URLSearchParams(next.split('?')[1]).get('to')).toBe(to);
    const second = await t.get(next);
    expect(second.json().map((p: { booking_id: number }) => p.booking_id)).toEqual(inRange.slice(3));
    expect(second.headers['x-next-cursor']).toBeUndefined();
  });

  it('GET /anomalies: predictions with error > threshold, newest first', async () => {
    await t.post(`${API}/predictions`, [
      { booking_id: 3001, predicted_delay_minutes: 0, confidence: 0.5, risk_level: 'high', created_at: new Date(Date.now() - 120_000).toISOString() },
      { booking_id: 3002, predicted_delay_minutes: 0, confidence: 0.5, risk_level: 'high', created_at: new Date(Date.now() - 60_000).toISOString() },
      { booking_id: 3003, predicted_delay_minutes: 0, confidence: 0.5, risk_level: 'high' },
    ]);
    await t.post(`${API}/actuals`, [
      { booking_id: 3001, actual_delay_minutes: 9 }, // error 9
      { booking_id: 3002, actual_delay_minutes: 6 }, // error 6
      { booking_id: 3003, actual_delay_minutes: 5 }, // error exactly 5: not an anomaly
    ]);
    const res = await t.get(`${API}/anomalies`);
    expect(res.statusCode).toBe(200);
    expect(res.json().map((p: { booking_id: number }) => p.booking_id)).toEqual([3002, 3001]);
    expect(Object.keys(res.json()[0]).sort()).toEqual(PREDICTION_KEYS);
    expect((await t.get(`${API}/anomalies?threshold=4.5`)).json().map((p: { booking_id: number }) => p.booking_id)).toEqual([3003, 3002, 3001]);
    expect((await t.get(`${API}/anomalies?threshold=6`)).json().map((p: { booking_id: number }) => p.booking_id)).toEqual([3001]);
    expect((await t.get(`${API}/anomalies?threshold=0&limit=1`)).json()).toHaveLength(1);
    expect((await t.get(`${API}/anomalies?hours=0.01`)).json()).toEqual([]);
  });

  it('GET /anomalies pages past `limit`: X-Next-Cursor, and a Link with the window fixed as from/to', async () => {
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    // 5 anomalies of version 'paged', 8 days ago: outside the windows the other tests read
    const bookings = [0, 1, 2, 3, 4].map((i) => 3100 + i);
    await t.post(`${API}/predictions`, bookings.map((booking_id, i) => ({
      booking_id, predicted_delay_minutes: 0, confidence: 0.5, risk_level: 'high', model_version: 'paged', created_at: minutesAgo(8 * 1440 + 10 * i),
    })));
    await t.post(`${API}/actuals`, bookings.map((booking_id, i) => ({ booking_id, actual_delay_minutes: 10 + i })));

    const seen: number[] = [];
    let url: string | undefined = `${API}/anomalies?model_version=paged&hours=200&limit=2`;
    let pages = 0;
    while (url) {
      const res = await t.get(url);
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().map((p: { booking_id: number }) => p.booking_id));
      pages++;
      const link = res.headers.link as string | undefined;
      if (link === undefined) {
        expect(res.headers['x-next-cursor']).toBeUndefined();
        break;
      }
      const next = new URLSearchParams(link.replace(/^<[^?]+\?([^>]+)>.*$/, '$1'));
      expect(next.get('cursor')).toBe(res.headers['x-next-cursor']);
      expect(next.get('model_version')).toBe('paged');
      expect(next.get('hours')).toBeNull(); // replaced by the range it resolved to
      expect(Date.parse(next.get('to')!) - Date.parse(next.get('from')!)).toBe(200 * 3600_000);
      url = link.replace(/^<([^>]+)>.*$/, '$1');
    }
    expect(seen).toEqual(bookings); // newest first, each once
    expect(pages).toBe(3);
    expect((await t.get(`${API}/anomalies?cursor=not-a-cursor`)).statusCode).toBe(400);
  });

  it('routes without parameters refuse one sent anyway instead of ignoring it (/summary?hours=5 would still be 24 h)', async () => {
    for (const path of ['/summary?hours=5', '/info?x=1', '/feature-flags?model_version=v1']) {
      const res = await t.get(`${API}${path}`);
      const field = path.split('?')[1]!.split('=')[0]!;
      expect([path, res.statusCode, res.json().details]).toEqual([path, 400, [{ field, message: 'is not a known field' }]]);
    }
    expect((await t.get(`${API}/summary`)).statusCode).toBe(200);
  });

  it('GET /summary: the seed\'s shape, request counts over 24 h', async () => {
    const res = await t.get(`${API}/summary`);
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(Object.keys(s).sort()).toEqual(['anomalies_count', 'feature_flags', 'metrics_24h', 'metrics_7d', 'timestamp', 'total_predictions']);
    expect(Object.keys(s.metrics_24h).sort()).toEqual(METRICS_KEYS);
    expect(Object.keys(s.metrics_7d).sort()).toEqual(METRICS_KEYS);
    expect(s.total_predictions).toBe((await tableCounts(t.db)).predictions);
    expect(s.metrics_24h.period_hours).toBe(24);
    expect(s.metrics_7d.period_hours).toBe(168);
    expect(s.anomalies_count).toBe(2);
    expect(s.anomalies_count).toBe(s.metrics_24h.anomalies);
    const successes = s.metrics_24h.predictions;
    expect(s.feature_flags).toEqual({
      ml_enabled: true,
      ml_traffic_percentage: 25,
      ml_requests: successes + 6,
      ml_successes: successes,
      ml_failures: 6, // reported by the writes' test above
      ml_success_rate: expect.closeTo(successes / (successes + 6), 12),
    });
    expect(String(s.feature_flags.ml_success_rate).replace(/^0\.|\./, '').length).toBeLessThanOrEqual(12); // 12 significant digits
    expect(s.timestamp).toMatch(ISO);
  });

  it('GET /model-versions: versions seen in the window, sorted', async () => {
    const res = await t.get(`${API}/model-versions`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ model_versions: ['even', 'odd', 'unknown', 'v1.2.0'] });
    expect((await t.get(`${API}/model-versions?hours=0`)).statusCode).toBe(400);
  });

  it('GET /predictions?hours=H: the last H hours, paged over the exact range it stood for', async () => {
    const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
    const row = (booking_id: number, created_at: string) => ({ booking_id, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low', model_version: 'hours-window', created_at });
    const posted = await t.post(`${API}/predictions`, [row(881, at(2 * 3_600_000)), row(882, at(60_000)), row(883, at(30_000))]);
    expect(posted.statusCode).toBe(201);
    const lastHour = await t.get(`${API}/predictions?hours=1&model_version=hours-window`);
    expect(lastHour.json().map((p: { booking_id: number }) => p.booking_id)).toEqual([883, 882]);
    const paged = await t.get(`${API}/predictions?hours=1&limit=1&model_version=hours-window`);
    const next = new URLSearchParams(String(paged.headers.link).replace(/^<([^>]+)>.*$/, '$1').split('?')[1]);
    expect([next.get('hours'), Date.parse(next.get('to')!) - Date.parse(next.get('from')!)]).toEqual([null, 3_600_000]);
    expect((await t.get(`${API}/predictions?${next}`)).json().map((p: { booking_id: number }) => p.booking_id)).toEqual([882]);
  });

  it('GET /info', async () => {
    const res = await t.get(`${API}/info`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ service: 'mlmon', version: '0.0.0-test', api_version: 1, accuracy_tolerance_minutes: 3, anomaly_threshold_minutes: 5 });
  });
});

describe('unauthenticated routes', () => {
  it('GET /healthz and /readyz', async () => {
    expect((await t.get('/healthz', null)).json()).toEqual({ status: 'ok' });
    const ready = await t.get('/readyz', null);
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok' });
  });

  it('GET /docs/json documents every route of the contract', async () => {
    const res = await t.get('/docs/json', null);
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    for (const route of [
      '/healthz', '/readyz', '/metrics', `${API}/predictions`, `${API}/actuals`, `${API}/feature-flags`,
      `${API}/feature-flags/decision`, `${API}/prediction-failures`, `${API}/metrics`, `${API}/daily`, `${API}/timeseries`,
      `${API}/anomalies`, `${API}/summary`, `${API}/model-versions`, `${API}/info`,
    ]) {
      expect(paths).toContain(route);
    }
    const bulk = res.json().paths[`${API}/predictions/bulk`].post;
    expect(Object.keys(bulk.requestBody.content)).toEqual(['application/x-ndjson']);
    const docs = await t.get('/docs', null);
    expect([200, 302]).toContain(docs.statusCode);
  });

  it('the /docs page keeps its scripts on the scheme it was served over (plain HTTP)', async () => {
    const page = await t.get('/docs/', null);
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('GET /docs/json agrees with docs/api.md: defaults, tokens, error statuses', async () => {
    type Operation = { parameters?: { name: string; required?: boolean; schema: { default?: unknown } }[]; requestBody?: unknown; security?: unknown[]; responses: Record<string, unknown> };
    const doc = (await t.get('/docs/json', null)).json() as { security: unknown[]; paths: Record<string, Record<string, Operation>> };
    const problems: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        // a parameter with a default may be left out (limit, days, step, hours)
        for (const p of op.parameters ?? []) if (p.schema.default !== undefined && p.required) problems.push(`${name}: ${p.name} has a default but is required`);
        if (path.startsWith(API)) {
          // The bulk route streams its body: it refuses long lines one by one, never the whole (413).
          const streamed = path === `${API}/predictions/bulk`;
          const expected = ['400', '401', '503', ...(method === 'get' ? [] : streamed ? ['415'] : ['413', '415'])];
          for (const status of expected) if (!(status in op.responses)) problems.push(`${name}: no ${status} response`);
          if (streamed && '413' in op.responses) problems.push(`${name}: a 413 it never answers`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(doc.security).toEqual([{ bearer: [] }]);
    // health needs no token; /metrics only when MLMON_METRICS_TOKEN is set
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(doc.paths['/readyz']!.get!.security).toEqual([]);
    expect(doc.paths['/metrics']!.get!.security).toEqual([{}, { bearer: [] }]);
    expect(Object.keys(doc.paths['/metrics']!.get!.responses).sort()).toEqual(['200', '401']);
  });

  it('GET /metrics: Prometheus text', async () => {
    const res = await t.get('/metrics', null);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE ml_prediction_mae_seconds gauge');
  });

  it('unknown routes: 404 in the error shape', async () => {
    const res = await t.get('/nope', null);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: expect.stringContaining('/nope') });
  });
});
