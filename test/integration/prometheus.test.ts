/**
 * GET /metrics: `promtool check metrics` on real output (awkward label values included), the
 * gauge cache refreshed ahead of the scrapes, and a scrape while the database is gone (last values served, said so in a metric;
 * writes 503 with Retry-After, /readyz 503).
 */
import { spawnSync } from 'node:child_process';
import { buildApp } from '../../src/app.js';
import { connect } from '../../src/db/connect.js';
import { API, startTestApp, type TestApp } from '../support/app-harness.js';
import { parsePrometheus, samplesOf } from '../support/reference.js';
import { createTestDatabase } from '../support/database.js';
import { rawRequest } from '../support/app-harness.js';
import type { AddressInfo } from 'node:net';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { describeWhenInstalled, isInstalled, PROMTOOL_HINT } from '../support/required-tools.js';


describe('GET /metrics exposition', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    const now = Date.now();
    await t.post(`${API}/predictions`, [
      { booking_id: 1, predicted_delay_minutes: 4, confidence: 0.8, risk_level: 'low', model_version: 'v1', prediction_time_ms: 120 },
      { booking_id: 2, predicted_delay_minutes: 9, confidence: 0.6, risk_level: 'high', model_version: 'v1', prediction_time_ms: 180 },
      // label values that need escaping in the exposition format
      { booking_id: 3, predicted_delay_minutes: 2, confidence: 0.5, risk_level: 'low', model_version: 'we"ird\\ver\nsion', prediction_time_ms: 90 },
      // history (a backfill): stored and rolled up, but not a live request nor a live latency
      { booking_id: 4, predicted_delay_minutes: 2, confidence: 0.5, risk_level: 'low', model_version: 'ünïcødé 😀', prediction_time_ms: 2000, created_at: new Date(now - 3 * 86_400_000).toISOString() },
    ]);
    await t.post(`${API}/actuals`, [
      { booking_id: 1, actual_delay_minutes: 5 },
      { booking_id: 2, actual_delay_minutes: 20 },
      { booking_id: 3, actual_delay_minutes: 2.5 },
    ]);
    await t.post(`${API}/prediction-failures`, { count: 2 });
    await t.post(`${API}/predictions`, { bad: true }); // a rejected write, so ml_ingest_rejected_total has a series
  });
  afterAll(() => t?.close());

  it('the exposition is clean', async () => {
    const res = await t.get('/metrics', null);
    expect(res.statusCode).toBe(200);
    // our own parser reads every line, including the escaped label values
    const samples = parsePrometheus(res.body);
    expect(samplesOf(samples, 'ml_prediction_window_predictions', { window: '24h', model_version: 'we"ird\\ver\nsion' })[0]?.value).toBe(1);
    expect(samplesOf(samples, 'ml_prediction_window_predictions', { window: '7d', model_version: 'ünïcødé 😀' })[0]?.value).toBe(1);
    expect(samplesOf(samples, 'ml_ingest_rejected_total', { reason: 'invalid' })[0]?.value).toBe(1);
    expect(samplesOf(samples, 'ml_requests_total', { outcome: 'failure' })[0]?.value).toBe(2);
    expect(samplesOf(samples, 'ml_requests_total', { outcome: 'success' })[0]?.value).toBe(3);
    expect(samplesOf(samples, 'ml_predictions_ingested_total', { model_version: 'ünïcødé 😀' })[0]?.value).toBe(1);
    expect(samplesOf(samples, 'ml_prediction_latency_seconds_count', { model_version: 'ünïcødé 😀' })[0]?.value ?? 0).toBe(0);
    expect(samplesOf(samples, 'ml_prediction_latency_seconds_count', { model_version: 'v1' })[0]?.value).toBe(2);
    expect(samplesOf(samples, 'ml_feature_flag_enabled')[0]?.value).toBe(0);
    expect(samplesOf(samples, 'mlmon_database_up')[0]?.value).toBe(1);
    expect(samplesOf(samples, 'http_request_duration_seconds_count', { route: '/api/ml-monitoring/predictions', method: 'POST' }).length).toBeGreaterThan(0);
    expect(samplesOf(samples, 'process_cpu_user_seconds_total').length).toBe(1);
  });

  describeWhenInstalled('promtool check metrics', isInstalled('promtool') ? [] : ['promtool'], PROMTOOL_HINT, () => {
    it('finds nothing to report in the exposition', async () => {
      const res = await t.get('/metrics', null);
      expect(res.statusCode).toBe(200);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
      expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    });
  });

  it('the gauges use base units: MAE in seconds = minutes × 60, latency in seconds', async () => {
    const samples = parsePrometheus((await t.get('/metrics', null)).body);
    const api = (await t.get(`${API}/metrics?hours=1&model_version=v1`)).json();
    // computed here: errors 1 and 11 minutes; latencies 120 and 180 ms
    expect(api.mae).toBe(6);
    expect(samplesOf(samples, 'ml_prediction_mae_seconds', { window: '1h', model_version: 'v1' })[0]?.value).toBe(360);
    const rmseSeconds = samplesOf(samples, 'ml_prediction_rmse_seconds', { window: '1h', model_version: 'v1' })[0]!.value;
    expect(rmseSeconds).toBeCloseTo(Math.sqrt((1 + 121) / 2) * 60, 8);
    expect(String(rmseSeconds).replace('.', '')).toHaveLength(12); // 12 significant digits after the change of unit, no residue
    expect(samplesOf(samples, 'ml_prediction_latency_avg_seconds', { window: '1h', model_version: 'v1' })[0]?.value).toBeCloseTo(0.15, 12);
    expect(samplesOf(samples, 'ml_prediction_accuracy_ratio', { window: '1h', model_version: 'v1' })[0]?.value).toBe(0.5);
    expect(samplesOf(samples, 'ml_prediction_window_anomalies', { window: '1h', model_version: 'v1' })[0]?.value).toBe(1);
    // R² of two labelled predictions: 1 - (1 + 121) / ((5 - 12.5)² + (20 - 12.5)²)
    expect(samplesOf(samples, 'ml_prediction_r2', { window: '1h', model_version: 'v1' })[0]?.value).toBeCloseTo(1 - 122 / 112.5, 12);
    // a version with one labelled prediction has no R² series (null), but has MAE
    expect(samplesOf(samples, 'ml_prediction_r2', { model_version: 'we"ird\\ver\nsion' })).toEqual([]);
    expect(samplesOf(samples, 'ml_prediction_mae_seconds', { window: '1h', model_version: 'we"ird\\ver\nsion' })[0]?.value).toBe(30);
    // latency histogram buckets around the 150 ms target
    const buckets = samplesOf(samples, 'ml_prediction_latency_seconds_bucket', { model_version: 'v1' }).map((s) => s.labels.le);
    expect(buckets).toEqual(expect.arrayContaining(['0.1', '0.15', '0.2', '+Inf']));
    expect(samplesOf(samples, 'ml_prediction_latency_seconds_bucket', { model_version: 'v1', le: '0.15' })[0]?.value).toBe(1);
    expect(samplesOf(samples, 'ml_feature_flag_traffic_ratio')[0]?.value).toBe(0);
    await t.put(`${API}/feature-flags`, { ml_enabled: true, ml_traffic_percentage: 25 });
    const after = parsePrometheus((await t.get('/metrics', null)).body);
    expect(samplesOf(after, 'ml_feature_flag_traffic_ratio')[0]?.value).toBe(0.25);
    expect(samplesOf(after, 'ml_feature_flag_enabled')[0]?.value).toBe(1);
  });
});

/** Polls `check` every 50 ms for up to 5 s. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await check()) return true;
  }
  return false;
}

describe('the gauge cache and a dead database', () => {
  it('serves cached gauges refreshed in the background, then the last values (and database_up 0) when the database is gone', async () => {
    const db = await createTestDatabase();
    const target = new URL(db.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    const sql = connect(proxy.urlThrough(db.url), { connectTimeout: 1 });
    const tokens = { ingest: 'i'.repeat(32), read: 'r'.repeat(32), metrics: undefined };
    const app = await buildApp({ sql, tokens, rules: { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 }, metricsCacheSeconds: 1, version: 'test' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const req = (method: string, path: string, body?: unknown) =>
      rawRequest(baseUrl, undefined, {
        method,
        path,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headers: { authorization: `Bearer ${tokens.ingest}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      });
    const gaugeValue = async (name: string, labels: Record<string, string> = {}) =>
      samplesOf(parsePrometheus((await req('GET', '/metrics')).body), name, labels)[0]?.value;
    try {
      await req('POST', `${API}/predictions`, { booking_id: 1, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' });
      expect(await gaugeValue('ml_prediction_window_predictions', { window: '1h', model_version: 'all' })).toBe(1);
      await req('POST', `${API}/predictions`, { booking_id: 2, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' });
      // Refreshed in the background (that the gauges are held for the cache's second in between is
      // asserted on a fake clock in test/unit/exporter-refresh.test.ts, not on this machine's speed).
      expect(await eventually(async () => (await gaugeValue('ml_prediction_window_predictions', { window: '1h', model_version: 'all' })) === 2)).toBe(true);
      expect(await gaugeValue('mlmon_database_up')).toBe(1);

      await proxy.cut(); // the database goes away: connections reset, new ones refused
      await new Promise((r) => setTimeout(r, 1100));
      let scrape = await req('GET', '/metrics');
      expect(await eventually(async () => {
        const started = Date.now();
        scrape = await req('GET', '/metrics');
        expect(Date.now() - started).toBeLessThan(5000); // never hangs
        return samplesOf(parsePrometheus(scrape.body), 'mlmon_database_up')[0]?.value === 0;
      })).toBe(true);
      expect(scrape.statusCode).toBe(200);
      const samples = parsePrometheus(scrape.body);
      expect(samplesOf(samples, 'mlmon_database_up')[0]?.value).toBe(0);
      expect(samplesOf(samples, 'ml_prediction_window_predictions', { window: '1h', model_version: 'all' })[0]?.value).toBe(2);
      expect(samplesOf(samples, 'mlmon_metrics_snapshot_age_seconds')[0]?.value).toBeGreaterThan(1);

      const ready = await req('GET', '/readyz');
      expect(ready.statusCode).toBe(503);
      const write = await req('POST', `${API}/predictions`, { booking_id: 3, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' });
      expect({ status: write.statusCode, retryAfter: write.headers['retry-after'] }).toEqual({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
      expect(write.body).not.toMatch(/\bat .*\.(js|ts):\d+|mlmon_test_|password/i);
      const read = await req('GET', `${API}/metrics`);
      expect(read.statusCode).toBe(503);
      expect((await req('GET', '/healthz')).statusCode).toBe(200);

      // and it recovers by itself when the database is back
      await proxy.restore();
      let recovered = false;
      for (let i = 0; i < 50 && !recovered; i++) {
        recovered = (await req('GET', '/readyz')).statusCode === 200;
        if (!recovered) await new Promise((r) => setTimeout(r, 100));
      }
      expect(recovered).toBe(true);
      expect((await req('POST', `${API}/predictions`, { booking_id: 4, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' })).statusCode).toBe(201);
      expect(await eventually(async () => (await gaugeValue('mlmon_database_up')) === 1)).toBe(true);
      expect(await eventually(async () => (await gaugeValue('ml_prediction_window_predictions', { window: '1h', model_version: 'all' })) === 3)).toBe(true);
    } finally {
      await app.close();
      await sql.end({ timeout: 1 }).catch(() => {});
      await proxy.close().catch(() => {});
      await db.drop();
    }
  }, 30_000);
});

describe('GET /metrics with more model versions than MLMON_MAX_MODEL_VERSIONS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ maxModelVersions: 3 });
  });
  afterAll(() => t?.close());

  it('gives the biggest versions series of their own and counts the rest as other', async () => {
    const rows = (version: string, count: number, delay: number) =>
      Array.from({ length: count }, (_, i) => ({ booking_id: 7000 + i + delay * 100, predicted_delay_minutes: delay, confidence: 0.5, risk_level: 'low', model_version: version, prediction_time_ms: 100 }));
    // history first (30 days old): it takes one of the counters' 3 places (fewer than half), not more
    const history = ['old-a', 'old-b', 'old-c'].map((model_version, i) => ({
      booking_id: 6900 + i, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low', model_version, prediction_time_ms: 100,
      created_at: new Date(Date.now() - 30 * 86_400_000).toISOString(),
    }));
    expect((await t.post(`${API}/predictions`, history)).statusCode).toBe(201);
    // stored in this order: the counters label the first versions they meet, the gauges the three biggest
    const written = [...rows('v-small', 1, 1), ...rows('v-big', 4, 2), ...rows('v-mid', 3, 3), ...rows('v-tiny', 1, 4)];
    expect((await t.post(`${API}/predictions`, written)).statusCode).toBe(201);
    await t.post(`${API}/actuals`, written.map((p) => ({ booking_id: p.booking_id, actual_delay_minutes: p.predicted_delay_minutes + 1 })));

    const samples = parsePrometheus((await t.get('/metrics', null)).body);
    const gaugeVersions = samplesOf(samples, 'ml_prediction_window_predictions', { window: '24h' }).map((s) => [s.labels.model_version, s.value]);
    expect(Object.fromEntries(gaugeVersions)).toEqual({ all: 9, 'v-big': 4, 'v-mid': 3, 'v-small': 1, other: 1 }); // v-tiny: ties go by name
    expect(samplesOf(samples, 'ml_prediction_mae_seconds', { window: '24h', model_version: 'other' })[0]?.value).toBeCloseTo(60, 9);
    const counted = samplesOf(samples, 'ml_predictions_ingested_total').map((s) => [s.labels.model_version, s.value]);
    expect(Object.fromEntries(counted)).toEqual({ 'old-a': 1, 'v-small': 1, 'v-big': 4, other: 6 });
    expect(samplesOf(samples, 'ml_prediction_latency_seconds_count', { model_version: 'other' })[0]?.value).toBe(4);
  });
});
