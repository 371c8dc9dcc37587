/**
 * Auth matrix: every route × {no token, wrong token, read token, ingest token, metrics token}
 * with the expected status, with and without MLMON_METRICS_TOKEN; plus header variants, the
 * 401 shape, and a sweep over every route the OpenAPI document lists.
 */
import { API, newToken, startTestApp, type RawRequest, type TestApp } from '../support/app-harness.js';
import { parsePrometheus, samplesOf } from '../support/reference.js';

type Who = 'none' | 'wrong' | 'read' | 'ingest' | 'metrics';
const WHO: Who[] = ['none', 'wrong', 'read', 'ingest', 'metrics'];

interface Route {
  name: string;
  request: () => RawRequest;
  access: 'read' | 'ingest' | 'open' | 'metrics';
  /** Status when allowed. */
  ok: number;
}

let booking = 1;
const jsonBody = (method: string, path: string, body: unknown) => (): RawRequest => ({
  method,
  path,
  body: JSON.stringify(typeof body === 'function' ? body() : body),
  headers: { 'content-type': 'application/json' },
});
const get = (path: string) => (): RawRequest => ({ method: 'GET', path });
const from = new Date(Date.now() - 3600_000).toISOString();
const to = new Date().toISOString();

const ROUTES: Route[] = [
  { name: 'POST /predictions', access: 'ingest', ok: 201, request: jsonBody('POST', `${API}/predictions`, () => ({ booking_id: booking++, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' })) },
  { name: 'POST /actuals', access: 'ingest', ok: 200, request: jsonBody('POST', `${API}/actuals`, { booking_id: 1, actual_delay_minutes: 2 }) },
  { name: 'PUT /feature-flags', access: 'ingest', ok: 200, request: jsonBody('PUT', `${API}/feature-flags`, { ml_enabled: true }) },
  { name: 'POST /prediction-failures', access: 'ingest', ok: 201, request: jsonBody('POST', `${API}/prediction-failures`, { count: 1 }) },
  { name: 'GET /metrics (API)', access: 'read', ok: 200, request: get(`${API}/metrics?hours=1`) },
  { name: 'GET /daily', access: 'read', ok: 200, request: get(`${API}/daily?days=2`) },
  { name: 'GET /timeseries', access: 'read', ok: 200, request: get(`${API}/timeseries?from=${from}&to=${to}&step=600`) },
  { name: 'GET /predictions', access: 'read', ok: 200, request: get(`${API}/predictions?limit=5`) },
  { name: 'GET /anomalies', access: 'read', ok: 200, request: get(`${API}/anomalies`) },
  { name: 'GET /summary', access: 'read', ok: 200, request: get(`${API}/summary`) },
  { name: 'GET /feature-flags', access: 'read', ok: 200, request: get(`${API}/feature-flags`) },
  { name: 'GET /feature-flags/decision', access: 'read', ok: 200, request: get(`${API}/feature-flags/decision?booking_id=7`) },
  { name: 'GET /model-versions', access: 'read', ok: 200, request: get(`${API}/model-versions`) },
  { name: 'GET /info', access: 'read', ok: 200, request: get(`${API}/info`) },
  { name: 'GET /healthz', access: 'open', ok: 200, request: get('/healthz') },
  { name: 'GET /readyz', access: 'open', ok: 200, request: get('/readyz') },
  { name: 'GET /docs/json', access: 'open', ok: 200, request: get('/docs/json') },
  { name: 'GET /metrics (Prometheus)', access: 'metrics', ok: 200, request: get('/metrics') },
];

function tokenOf(t: TestApp, who: Who, strangerMetrics: string): string | undefined {
  switch (who) {
    case 'none':
      return undefined;
    case 'wrong':
      return newToken();
    case 'read':
      return t.tokens.read;
    case 'ingest':
      return t.tokens.ingest;
    case 'metrics':
      return t.tokens.metrics ?? strangerMetrics;
  }
}

function expected(route: Route, who: Who, metricsProtected: boolean): number {
  switch (route.access) {
    case 'open':
      return route.ok;
    case 'metrics':
      if (!metricsProtected) return route.ok;
      return who === 'metrics' ? route.ok : 401;
    case 'read':
      return who === 'read' || who === 'ingest' ? route.ok : 401;
    case 'ingest':
      return who === 'ingest' ? route.ok : who === 'read' ? 403 : 401;
  }
}

async function matrix(t: TestApp, metricsProtected: boolean): Promise<string[]> {
  const problems: string[] = [];
  const stranger = newToken(); // a "metrics token" when none is configured: just an unknown token
  for (const route of ROUTES) {
    for (const who of WHO) {
      const token = tokenOf(t, who, stranger);
      const r = route.request();
      const res = await t.raw({ ...r, headers: { ...r.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
      const want = expected(route, who, metricsProtected);
      if (res.statusCode !== want) problems.push(`${route.name} with ${who} token: ${res.statusCode}, expected ${want}`);
      if (res.statusCode === 401) {
        if (res.headers['www-authenticate'] !== 'Bearer') problems.push(`${route.name} with ${who} token: 401 without WWW-Authenticate: Bearer`);
        const body = res.json();
        if (body.statusCode !== 401 || body.error !== 'Unauthorized' || typeof body.message !== 'string') problems.push(`${route.name}: 401 body ${res.body}`);
        if (token && res.body.includes(token)) problems.push(`${route.name}: the 401 echoes the presented token`);
      }
    }
  }
  return problems;
}

describe('without MLMON_METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('every route × every token gives the expected status (/metrics open)', async () => {
    expect(await matrix(t, false)).toEqual([]);
  });

  it('refused writes are counted as unauthorized in ml_ingest_rejected_total', async () => {
    const before = samplesOf(parsePrometheus((await t.get('/metrics', null)).body), 'ml_ingest_rejected_total', { reason: 'unauthorized' })[0]?.value ?? 0;
    await t.post(`${API}/predictions`, { booking_id: 1, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' }, t.tokens.read);
    await t.post(`${API}/actuals`, { booking_id: 1, actual_delay_minutes: 1 }, null);
    const after = samplesOf(parsePrometheus((await t.get('/metrics', null)).body), 'ml_ingest_rejected_total', { reason: 'unauthorized' })[0]?.value;
    expect(after).toBe(before + 2);
  });

  it('the read token is told it cannot write (403: a known token without the right); the message never contains a token', async () => {
    const res = await t.post(`${API}/predictions`, { booking_id: 1, predicted_delay_minutes: 1, confidence: 0.5, risk_level: 'low' }, t.tokens.read);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ statusCode: 403, error: 'Forbidden', message: 'the read token cannot write: send the ingest token' });
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).not.toContain(t.tokens.read);
    expect(res.body).not.toContain(t.tokens.ingest);
  });

  it('Authorization header variants', async () => {
    const path = `${API}/info`;
    const status = async (authorization: string | undefined) =>
      (await t.raw({ method: 'GET', path, headers: authorization === undefined ? {} : { authorization } })).statusCode;
    expect(await status(`Bearer ${t.tokens.read}`)).toBe(200);
    expect(await status(`bearer ${t.tokens.read}`)).toBe(200); // the scheme is case-insensitive (RFC 7235)
    expect(await status(`Bearer   ${t.tokens.read}  `)).toBe(200);
    expect(await status(`Basic ${Buffer.from(`user:${t.tokens.read}`).toString('base64')}`)).toBe(401);
    expect(await status(t.tokens.read)).toBe(401); // no scheme
    expect(await status(`Bearer ${t.tokens.read}x`)).toBe(401);
    expect(await status(`Bearer ${t.tokens.read.slice(0, -1)}`)).toBe(401);
    expect(await status(`Bearer ${t.tokens.read.toUpperCase()}`)).toBe(401);
    expect(await status(`Bearer ${t.tokens.read} ${t.tokens.ingest}`)).toBe(401);
    expect(await status(`Bearer${t.tokens.read}`)).toBe(401); // the scheme must stand on its own
    expect(await status(`NotBearer ${t.tokens.read}`)).toBe(401);
    expect(await status('Bearer')).toBe(401);
    expect(await status('')).toBe(401);
    // a token in the query string is not a credential
    expect((await t.raw({ method: 'GET', path: `${path}?access_token=${t.tokens.read}` })).statusCode).toBe(401);
  });

  it('an unauthenticated request is refused before its body or query is looked at (401, not 400)', async () => {
    const badBody = await t.post(`${API}/predictions`, { colour: 'red' }, null);
    const badQuery = await t.get(`${API}/metrics?hours=-1`, null);
    const badJson = await t.post(`${API}/predictions`, '{"', null);
    expect({ badBody: badBody.statusCode, badQuery: badQuery.statusCode, badJson: badJson.statusCode }).toEqual({ badBody: 401, badQuery: 401, badJson: 401 });
  });

  it('every /api/ml-monitoring route in the OpenAPI document refuses a request without a token', async () => {
    const doc = (await t.get('/docs/json', null)).json() as { paths: Record<string, Record<string, unknown>> };
    const problems: string[] = [];
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.startsWith(API)) continue;
      for (const method of Object.keys(methods)) {
        checked++;
        const url = path.replace(/\{[^}]+\}/g, '1');
        const res = await t.raw({ method: method.toUpperCase(), path: url, ...(method === 'get' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } }) });
        // an empty or invalid body/query must not matter: no token is a 401 whatever else is wrong
        if (res.statusCode !== 401) problems.push(`${method.toUpperCase()} ${path} without a token: ${res.statusCode}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(14);
    expect(problems).toEqual([]);
  });
});

describe('with MLMON_METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ metricsToken: true });
  });
  afterAll(() => t?.close());

  it('every route × every token gives the expected status (/metrics needs the metrics token only)', async () => {
    expect(await matrix(t, true)).toEqual([]);
  });

  it('the read token hint is given on writes only, not where the read token is simply not the metrics one', async () => {
    const res = await t.get('/metrics', t.tokens.read);
    expect(res.statusCode).toBe(401);
    expect(res.json().message).not.toContain('cannot write');
  });

  it('the metrics token opens nothing else', async () => {
    for (const r of ROUTES.filter((x) => x.access === 'read' || x.access === 'ingest')) {
      const req = r.request();
      const res = await t.raw({ ...req, headers: { ...req.headers, authorization: `Bearer ${t.tokens.metrics}` } });
      expect({ route: r.name, status: res.statusCode }).toEqual({ route: r.name, status: 401 });
    }
  });
});
