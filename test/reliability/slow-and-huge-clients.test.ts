/**
 * Slow or huge clients against the real process: a body over the limit is refused with 413
 * without the service reading it; a string over its limit is a 400 naming the field; slow-loris
 * connections (headers trickled byte by byte, bodies never finished) do not keep other clients
 * from being served.
 *
 * The cut-off itself is checked on a service started with MLMON_REQUEST_TIMEOUT_SECONDS=4 (the
 * default 30 s would make the test wait a minute).
 */
import { connect, type Socket } from 'node:net';
import { API, call, leakIn, prediction, sleep, uniqueTag, useServiceOnTestDatabase } from './support.js';

const WRITE_LIMIT = 32 * 1024 * 1024; // src/expose/api/ingest-routes.ts WRITE_BODY_LIMIT
const SHORT_TIMEOUT_SECONDS = 4;

interface RawOutcome {
  status: number | undefined;
  head: string;
  bytesSent: number;
  closedByServer: boolean;
}

/** Declares `declared` bytes of body, sends `send` of them, then waits for the answer or the close. */
function partialBody(base: string, path: string, token: string, declared: number, send: number, waitMs: number): Promise<RawOutcome> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    let bytesSent = 0;
    const finish = (closedByServer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
      resolve({ status: status ? Number(status) : undefined, head: received.slice(0, 2000), bytesSent, closedByServer });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (/\r\n\r\n/.test(received)) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
      const chunk = Buffer.alloc(Math.min(send, 64 * 1024), 0x20);
      while (bytesSent < send) {
        const n = Math.min(chunk.length, send - bytesSent);
        socket.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        bytesSent += n;
      }
    });
  });
}

interface SlowConnection {
  socket: Socket;
  closedAt: number | undefined;
  answer: string;
  stop(): void;
}

/** Headers one byte every `everyMs` (never reaching the end), or a body that never completes. */
function slowLoris(base: string, mode: 'headers' | 'body', token: string, everyMs: number): SlowConnection {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  const conn: SlowConnection = { socket, closedAt: undefined, answer: '', stop: () => {} };
  socket.on('error', () => {});
  socket.on('data', (c) => (conn.answer += c.toString('latin1')));
  socket.on('close', () => (conn.closedAt ??= Date.now()));
  const headers = `POST ${API}/predictions HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    if (mode === 'body') socket.write(headers + '[');
    let i = 0;
    // headers: trickle the request line and headers but never the blank line; body: a space at a time
    const trickle = mode === 'headers' ? headers.slice(0, -2) : ' '.repeat(99_000);
    timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      if (i < trickle.length) socket.write(trickle[i++]!);
    }, everyMs);
  });
  conn.stop = () => {
    clearInterval(timer);
    socket.destroy();
  };
  return conn;
}

describe('slow or huge clients', () => {
  const running = useServiceOnTestDatabase();

  it('a body over the write limit gets 413 before the service reads it', async () => {
    const s = running();
    const declared = WRITE_LIMIT + 1024 * 1024;
    const sent = 64 * 1024; // a sliver of what is declared: the answer must not wait for the rest
    const outcome = await partialBody(s.baseUrl, `${API}/predictions`, s.ingestToken, declared, sent, 15_000);
    console.log(`413 check: declared ${declared} bytes, sent ${outcome.bytesSent}, answer ${outcome.status}`);
    expect(outcome.status).toBe(413);
    // read routes and flags keep Fastify's 1 MiB default
    const flags = await partialBody(s.baseUrl, `${API}/feature-flags`, s.ingestToken, 2 * 1024 * 1024, 1024, 15_000);
    expect(flags.status).toBe(413);
    // the service is fine afterwards
    expect((await call(s.baseUrl, 'GET', '/readyz')).status).toBe(200);
  });

  it('a string over its limit is a 400 naming the field; a 10,001-row batch is refused whole', async () => {
    const s = running();
    const version = uniqueTag('limits');
    const long = await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: { ...prediction(version, `${version}-1`), risk_level: 'x'.repeat(21) } });
    expect(long.status).toBe(400);
    expect(long.json.message).toContain('risk_level');
    const tooMany = Array.from({ length: 10_001 }, (_, i) => prediction(version, `${version}-b${i}`));
    const big = await call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: tooMany });
    expect(big.status).toBe(400);
    expect(leakIn(big.text)).toBeUndefined();
    const listed = await call(s.baseUrl, 'GET', `${API}/metrics?hours=1&model_version=${version}`, { token: s.readToken });
    expect(listed.json.predictions).toBe(0);
  });

  it('40 slow-loris connections open: other clients are still served', async () => {
    const s = running();
    const slow = [
      ...Array.from({ length: 20 }, () => slowLoris(s.baseUrl, 'headers', s.ingestToken, 200)),
      ...Array.from({ length: 20 }, () => slowLoris(s.baseUrl, 'body', s.ingestToken, 200)),
    ];
    try {
      await sleep(1000);
      const version = uniqueTag('loris');
      const served: number[] = [];
      for (let round = 0; round < 10; round++) {
        const answers = await Promise.all([
          call(s.baseUrl, 'GET', '/healthz', { timeoutMs: 10_000 }),
          call(s.baseUrl, 'GET', `${API}/summary`, { token: s.readToken, timeoutMs: 10_000 }),
          call(s.baseUrl, 'POST', `${API}/predictions`, { token: s.ingestToken, body: prediction(version, `${version}-${round}`), timeoutMs: 10_000 }),
          call(s.baseUrl, 'GET', '/metrics', { timeoutMs: 10_000 }),
        ]);
        served.push(...answers.map((a) => a.status));
        await sleep(200);
      }
      const stillOpen = slow.filter((c) => c.closedAt === undefined).length;
      console.log(`slow-loris: ${slow.length} slow connections, ${stillOpen} still open while ${served.length} other requests were served: ${JSON.stringify(served.reduce<Record<number, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {}))}`);
      expect(served.every((status) => status === 200 || status === 201)).toBe(true);
      expect(stillOpen).toBeGreaterThan(0); // the slow clients really were holding connections meanwhile
    } finally {
      for (const c of slow) c.stop();
    }
  }, 60_000);


});

describe('slow clients against a short request timeout', () => {
  const running = useServiceOnTestDatabase({ MLMON_REQUEST_TIMEOUT_SECONDS: String(SHORT_TIMEOUT_SECONDS) });

  it(`slow-loris connections are cut off by the request timeout (MLMON_REQUEST_TIMEOUT_SECONDS=${SHORT_TIMEOUT_SECONDS})`, async () => {
    const s = running();
    const openedAt = Date.now();
    const slow = [slowLoris(s.baseUrl, 'headers', s.ingestToken, 500), slowLoris(s.baseUrl, 'body', s.ingestToken, 500)];
    try {
      while (Date.now() - openedAt < 20_000 && slow.some((c) => c.closedAt === undefined)) await sleep(100);
      const cut = slow.map((c) => (c.closedAt === undefined ? null : (c.closedAt - openedAt) / 1000));
      console.log(`slow-loris cut off after (s): ${JSON.stringify(cut)}; answers: ${JSON.stringify(slow.map((c) => c.answer.split('\r\n')[0]))}`);
      // Not before the timeout; at most 1 s after it (Node checks once a second) plus slack.
      for (const seconds of cut) {
        expect(seconds).not.toBeNull();
        expect(seconds!).toBeGreaterThanOrEqual(SHORT_TIMEOUT_SECONDS - 0.5);
        expect(seconds!).toBeLessThanOrEqual(SHORT_TIMEOUT_SECONDS + 1 + 1.5);
      }
      expect((await call(s.baseUrl, 'GET', '/readyz')).status).toBe(200);
      // The body cut off surfaces as ECONNRESET, a code the database client uses too: not its fault.
      expect(s.output()).not.toContain('database unavailable');
    } finally {
      for (const c of slow) c.stop();
    }
  }, 40_000);
});
