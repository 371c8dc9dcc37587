import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { installErrorHandler, isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../../src/server/errors.js';

// A bare Fastify with only the error handler: each failure kind is thrown on purpose, without a
// database to break. Over a real socket, as app.inject cannot load under Jest's ESM mode.
describe('installErrorHandler (src/server/errors.ts)', () => {
  let app: FastifyInstance;
  let base: string;
  const send = async (method: string, path: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}${path}`, { method, ...init });
    return { statusCode: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };
  beforeAll(async () => {
    app = Fastify({ logger: false });
    installErrorHandler(app);
    const fail = (error: Error & { code?: string; statusCode?: number }) => () => {
      throw error;
    };
    app.get('/bug', fail(new Error('syntax error at or near "select secret_column"')));
    app.get('/explicit-500', fail(Object.assign(new Error('relation ml_secret does not exist'), { statusCode: 500 })));
    app.get('/bad-gateway', fail(Object.assign(new Error('upstream said no'), { statusCode: 502 })));
    app.get('/db-down', fail(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { code: 'ECONNREFUSED' })));
    app.post('/json', async () => ({ ok: true }));
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  it('hides every 5xx behind one message, even one that carries its own status', async () => {
    for (const url of ['/bug', '/explicit-500', '/bad-gateway']) {
      const reply = await send('GET', url);
      expect([url, reply.statusCode, reply.body]).toEqual([
        url,
        500,
        { statusCode: 500, error: 'Internal Server Error', message: 'internal error; see the service log' },
      ]);
    }
  });

  it('answers 503 with Retry-After when the database is unreachable, without the address', async () => {
    const reply = await send('GET', '/db-down');
    expect(reply.statusCode).toBe(503);
    expect(reply.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    // 0 would tell every client to retry at once, against a database that is already down.
    expect(RETRY_AFTER_SECONDS).toBeGreaterThan(0);
    expect(reply.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'the database is unavailable; retry later' });
  });

  it('names the Content-Type that was sent when it refuses one', async () => {
    const reply = await send('POST', '/json', { body: 'a=1', headers: { 'content-type': 'text/csv' } });
    expect(reply.statusCode).toBe(415);
    expect(reply.body.message).toBe('Content-Type text/csv is not accepted here: send Content-Type: application/json');
  });

  // The query string may hold a token pasted into a URL by mistake: the 404 does not echo it.
  it('a 404 names the method and path, not the query string', async () => {
    const reply = await send('GET', '/nowhere?token=s3cret');
    expect(reply.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no route GET /nowhere' });
  });
});

describe('isDatabaseUnavailable (src/server/errors.ts)', () => {
  it.each([
    ['ECONNREFUSED', true],
    ['CONNECTION_CLOSED', true],
    // SQLSTATE class 08: connection exceptions, e.g. 08006 connection failure.
    ['08006', true],
    ['08001', true],
    ['57P01', true],
    ['53300', true],
    // Bugs or bad requests, not an outage: these must stay 500s (or 4xx) and be logged.
    ['23505', false],
    ['42P01', false],
    ['57014', false],
  ])('code %s → %s', (code, expected) => {
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code }))).toBe(expected);
  });

  it('is false for errors without a string code', () => {
    expect(isDatabaseUnavailable(new Error('x'))).toBe(false);
    expect(isDatabaseUnavailable({ code: 8006 })).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});

// Node reports a body cut off (the client hung up, or the request timeout closed the connection)
// as ECONNRESET, as the database client reports a reset: the request's completeness tells them apart.
describe('ECONNRESET: a body cut off, or the database', () => {
  const logged: { level: number; msg: string }[] = [];
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => logged.push(JSON.parse(line) as { level: number; msg: string }) } } });
    installErrorHandler(app);
    app.get('/db-reset', () => {
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    });
    app.post('/body', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('on a request that arrived whole, a reset is the database going away', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/db-reset`);
    expect(response.status).toBe(503);
    expect(logged.map((line) => line.msg)).toContain('database unavailable');
  });

  it('a body that never ends is logged as cut off (info), not as the database', async () => {
    logged.length = 0;
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /body HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    const deadline = Date.now() + 5000;
    while (!logged.some((line) => line.msg.startsWith('request body cut off')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logged.filter((line) => line.msg.startsWith('request body cut off')).map((line) => line.level)).toEqual([30]);
    expect(logged.map((line) => line.msg)).not.toContain('database unavailable');
  });
});

// A streamed upload (the NDJSON bulk route) answered with an error before its body ended.
describe('an error answered in the middle of a streamed body', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = Fastify({ logger: false });
    installErrorHandler(app);
    app.addContentTypeParser('application/x-ndjson', (_request, payload, done) => done(null, payload));
    app.post('/stream', async (request) => {
      for await (const chunk of request.body as AsyncIterable<Buffer>) {
        if (chunk.length > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      }
      return { read: true };
    });
    app.get('/next', async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('closes the connection, so that the next request is not stuck behind the unread rest', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, method, agent, headers: body ? { 'content-type': 'application/x-ndjson' } : {} }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
        req.on('error', reject);
        req.end(body);
      });
    try {
      const upload = await send('POST', '/stream', '{"line":1}\n'.repeat(200_000)); // 2 MB, still arriving when answered
      expect(upload).toEqual({ status: 503, connection: 'close' });
      expect((await send('GET', '/next')).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
