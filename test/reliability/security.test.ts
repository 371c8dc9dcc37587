/**
 * Security checks not covered by test/integration (auth matrix, token logging): helmet's headers
 * on every kind of response, no CORS unless MLMON_CORS_ORIGINS opts in (and then only for the
 * listed origins), and no stack trace, source path or SQL in any error body.
 */
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startServiceProcess, type RunningService } from '../support/service.js';
import { API, call, leakIn, prediction, uniqueTag, type CallResult } from './support.js';

const GRAFANA = 'https://grafana.example.com';
const EVIL = 'https://evil.example.net';

describe('security headers, CORS, error bodies', () => {
  let db: TestDatabase;
  let plain: RunningService | undefined;
  let withCors: RunningService | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    [plain, withCors] = await Promise.all([
      startServiceProcess({ databaseUrl: db.url, env: { LOG_LEVEL: 'warn' } }),
      startServiceProcess({ databaseUrl: db.url, env: { LOG_LEVEL: 'warn', MLMON_CORS_ORIGINS: GRAFANA } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await plain?.stop('SIGKILL');
    await withCors?.stop('SIGKILL');
    await db?.drop();
  }, 30_000);

  /** A response of every kind: ok, 201, 400, 401, 404, 413, 415, /metrics, /docs/json, health. */
  async function samples(s: RunningService): Promise<Record<string, CallResult>> {
    const version = uniqueTag('sec');
    return {
      healthz: await call(s.baseUrl, 'GET', '/healthz'),
      readyz: await call(s.baseUrl, 'GET', '/readyz'),
      metrics: await call(s.baseUrl, 'GET', '/metrics'),
      docsJson: await call(s.baseUrl, 'GET', '/docs/json'),
      summary200: await call(s.baseUrl, 'GET', `${API}/summary`, { token: s.readToken }),
      predictions201: await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: prediction(version, `${version}-1`) }),
      invalid400: await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: { booking_id: 'x' } }),
      noToken401: await call(s.baseUrl, 'GET', `${API}/summary`),
      notFound404: await call(s.baseUrl, 'GET', '/nope'),
      tooLarge413: await call(s.baseUrl, 'PUT', `${API}/feature-flags`, { token: s.ingestToken, body: `{"ml_enabled":true,"x":"${'a'.repeat(1_100_000)}"}` }),
      wrongType415: await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: 'booking_id=1', headers: { 'content-type': 'text/plain' } }),
    };
  }

  it('helmet headers on every kind of response, no x-powered-by', async () => {
    const missing: string[] = [];
    for (const [name, r] of Object.entries(await samples(plain!))) {
      const h = r.headers!;
      if (h.get('x-content-type-options') !== 'nosniff') missing.push(`${name} (${r.status}): x-content-type-options=${h.get('x-content-type-options')}`);
      if (!h.get('x-frame-options')) missing.push(`${name} (${r.status}): no x-frame-options`);
      if (!h.get('referrer-policy')) missing.push(`${name} (${r.status}): no referrer-policy`);
      if (!h.get('strict-transport-security')) missing.push(`${name} (${r.status}): no strict-transport-security`);
      if (h.get('x-powered-by')) missing.push(`${name}: x-powered-by ${h.get('x-powered-by')}`);
    }
    expect(missing).toEqual([]);
  });

  it('no CORS by default: no Access-Control-* header for any origin, preflight refused', async () => {
    const s = plain!;
    const simple = await call(s.baseUrl, 'GET', `${API}/summary`, { token: s.readToken, headers: { origin: GRAFANA } });
    const preflight = await call(s.baseUrl, 'OPTIONS', `${API}/predictions`, {
      headers: { origin: GRAFANA, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    const acHeaders = (r: CallResult) => [...r.headers!.keys()].filter((k) => k.startsWith('access-control-'));
    console.log(`CORS default: GET with Origin → ${simple.status} [${acHeaders(simple)}]; preflight → ${preflight.status} [${acHeaders(preflight)}]`);
    expect(simple.status).toBe(200);
    expect(acHeaders(simple)).toEqual([]);
    expect(acHeaders(preflight)).toEqual([]);
    expect(preflight.status).toBeGreaterThanOrEqual(400);
  });

  it('MLMON_CORS_ORIGINS opts in the listed origin only', async () => {
    const s = withCors!;
    const ok = await call(s.baseUrl, 'GET', `${API}/summary`, { token: s.readToken, headers: { origin: GRAFANA } });
    const preflight = await call(s.baseUrl, 'OPTIONS', `${API}/predictions`, {
      headers: { origin: GRAFANA, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    const evil = await call(s.baseUrl, 'GET', `${API}/summary`, { token: s.readToken, headers: { origin: EVIL } });
    const evilPreflight = await call(s.baseUrl, 'OPTIONS', `${API}/predictions`, { headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
    expect(ok.headers!.get('access-control-allow-origin')).toBe(GRAFANA);
    expect(preflight.status).toBe(204);
    expect(preflight.headers!.get('access-control-allow-origin')).toBe(GRAFANA);
    expect(preflight.headers!.get('access-control-allow-methods')).toMatch(/POST/);
    expect(evil.headers!.get('access-control-allow-origin')).toBeNull();
    expect(evilPreflight.headers!.get('access-control-allow-origin')).toBeNull();
    expect(ok.headers!.get('access-control-allow-credentials')).toBeNull();
  });

  it('no stack trace, source path or SQL in any error body', async () => {
    const s = plain!;
    const t = { token: s.ingestToken };
    const nested = '['.repeat(5000) + ']'.repeat(5000);
    const bad: [string, Promise<CallResult>][] = [
      ['malformed JSON', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: '{"booking_id": 1,' })],
      ['deeply nested JSON', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: nested })],
      ['deep object in factors', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: `{"booking_id":1,"predicted_delay_minutes":1,"confidence":0.5,"risk_level":"low","contributing_factors":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}` })],
      ['SQL in a string', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: { booking_id: 1, predicted_delay_minutes: 1, confidence: 0.5, risk_level: "'; drop table ml_prediction;--" } })],
      ['SQL in a query', call(s.baseUrl, 'GET', `${API}/predictions?model_version=${encodeURIComponent("x' or 1=1 --")}&cursor=${encodeURIComponent("1'; select pg_sleep(5);--")}`, { token: s.readToken })],
      ['NUL byte', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: '{"booking_id":1,"predicted_delay_minutes":1,"confidence":0.5,"risk_level":"lo\\u0000w"}' })],
      ['unpaired surrogate', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: '{"booking_id":1,"predicted_delay_minutes":1,"confidence":0.5,"risk_level":"\\ud800"}' })],
      ['huge number', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: '{"booking_id":1e400,"predicted_delay_minutes":1,"confidence":0.5,"risk_level":"low"}' })],
      ['NaN-like', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: '{"booking_id":1,"predicted_delay_minutes":NaN,"confidence":0.5,"risk_level":"low"}' })],
      ['duplicate keys', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: '{"booking_id":1,"booking_id":2,"predicted_delay_minutes":1,"confidence":0.5,"risk_level":"low"}' })],
      ['__proto__ key', call(s.baseUrl, 'POST', `${API}/predictions`, { ...t, body: '{"booking_id":1,"predicted_delay_minutes":1,"confidence":0.5,"risk_level":"low","__proto__":{"x":1}}' })],
      ['wrong content type', call(s.baseUrl, 'POST', `${API}/actuals`, { ...t, body: '<xml/>', headers: { 'content-type': 'application/xml' } })],
      ['bad cursor', call(s.baseUrl, 'GET', `${API}/predictions?cursor=%00%ff`, { token: s.readToken })],
      ['bad window', call(s.baseUrl, 'GET', `${API}/metrics?from=2024-13-45&to=yesterday`, { token: s.readToken })],
      ['year 0', call(s.baseUrl, 'GET', `${API}/metrics?from=0000-01-01T00:00:00Z&to=2024-01-01T00:00:00Z`, { token: s.readToken })],
      ['bad timeseries step', call(s.baseUrl, 'GET', `${API}/timeseries?from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z&step=7`, { token: s.readToken })],
      ['bad bulk line', call(s.baseUrl, 'POST', `${API}/predictions/bulk`, { ...t, body: '{"booking_id":1}\n{oops\n', headers: { 'content-type': 'application/x-ndjson' } })],
      ['bad method', call(s.baseUrl, 'DELETE', `${API}/predictions`, t)],
      ['invalid percent-encoding in path', call(s.baseUrl, 'GET', `${API}/%E0%A4%A`, t)],
    ];
    const problems: string[] = [];
    const statuses: Record<string, number> = {};
    for (const [name, pending] of bad) {
      const r = await pending;
      statuses[name] = r.status;
      if (r.status === 0 || r.status >= 500) problems.push(`${name}: status ${r.status} ${r.error ?? ''} ${r.text.slice(0, 200)}`);
      const leak = leakIn(r.text);
      if (leak) problems.push(`${name}: ${leak}`);
      if (r.status >= 400 && (typeof r.json?.message !== 'string' || r.json?.statusCode !== r.status)) problems.push(`${name}: error body not in the documented shape: ${r.text.slice(0, 200)}`);
    }
    console.log(`error bodies: ${bad.length} kinds of bad request, statuses ${JSON.stringify(statuses)}`);
    expect(problems).toEqual([]);
  });
});
