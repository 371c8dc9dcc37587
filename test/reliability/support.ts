/**
 * Shared pieces of the fault tests: a client that logs every acknowledged prediction, bounded
 * HTTP calls (a hang is a failure, never a stuck test), a private embedded cluster, and checks of
 * error bodies.
 */
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, postgresDataDir, startServiceProcess, type RunningService } from '../support/service.js';

export const API = '/api/ml-monitoring';

export interface CallResult {
  status: number; // 0: no HTTP answer (connection refused/reset, client timeout)
  headers: Headers | undefined;
  text: string;
  json: any;
  ms: number;
  /** Wall-clock time the answer arrived (ms since the epoch). */
  at: number;
  error?: string;
}

/** One HTTP call with a hard client-side deadline: a service that hangs shows up as `error: 'timeout'`. */
export async function call(
  base: string,
  method: string,
  route: string,
  { token, body, timeoutMs = 15_000, headers = {} }: { token?: string; body?: unknown; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(`${base}${route}`, {
      method,
      signal: controller.signal,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json, ms: performance.now() - started, at: Date.now() };
  } catch (error) {
    const aborted = controller.signal.aborted;
    const cause = (error as { cause?: { code?: string } }).cause;
    return { status: 0, headers: undefined, text: '', json: undefined, ms: performance.now() - started, at: Date.now(), error: aborted ? 'timeout' : (cause?.code ?? String(error)) };
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let serial = 0;
export function prediction(modelVersion: string, requestId: string): Record<string, unknown> {
  serial++;
  return {
    booking_id: 1_000_000 + serial,
    predicted_delay_minutes: (serial % 17) + 0.5,
    confidence: 0.5 + (serial % 5) / 10,
    risk_level: ['low', 'medium', 'high'][serial % 3],
    model_version: modelVersion,
    prediction_time_ms: 20 + (serial % 50),
    request_id: requestId,
  };
}

export const uniqueTag = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Things an error body must never contain: a stack frame, a source path, SQL, a driver message. */
const LEAKS: [string, RegExp][] = [
  ['stack frame', /\bat [\w$.<>]+ \(|\bat (file|node):|\.(ts|js):\d+:\d+/],
  ['source path', /\/(src|dist|node_modules)\//],
  ['SQL', /\b(select|insert into|update|delete from)\b.+\b(from|values|set|where)\b|ml_prediction|ml_rollup|relation "|syntax error at/i],
  ['driver detail', /postgres|ECONNREFUSED|PostgresError|sqlstate/i],
  ['stack property', /"stack"\s*:/],
];

/** Which leak, if any, a response body shows. */
export function leakIn(body: string): string | undefined {
  for (const [name, pattern] of LEAKS) if (pattern.test(body)) return `${name}: ${body.slice(0, 300)}`;
  return undefined;
}

/** Prometheus text: the value of one sample, matched by name and exact label set text. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const escaped = (name + (labels ? `{${labels}}` : '')).replace(/[{}.*+?^$()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

export interface PrivateCluster {
  url: string;
  port: number;
  dataDir: string;
  /** Stops PostgreSQL (the data dir stays). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data dir. */
  start(): Promise<void>;
  /** Stops it and removes the data dir. */
  destroy(): Promise<void>;
}

/** A cluster of our own on a fixed loopback port, so it can be stopped and started under a service. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const dataDir = await postgresDataDir('mlmon-reliability-pg-');
  const port = await freePort();
  let running: EmbeddedDatabase | undefined;
  try {
    running = await startEmbeddedPostgres({ dataDir, port });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true }); // nothing else would remove it
    throw error;
  }
  const url = running.url;
  const stop = async () => {
    const current = running;
    running = undefined;
    await current?.stop();
  };
  return {
    url,
    port,
    dataDir,
    stop,
    async start() {
      if (running) return;
      running = await startEmbeddedPostgres({ dataDir, port });
    },
    async destroy() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A short-lived direct connection for the test's own checks against the table. */
export async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface StoredCounts {
  /** request_id → number of rows carrying it. */
  rows: Map<string, number>;
  rollupPredictions: number;
}

export async function storedFor(url: string, modelVersion: string): Promise<StoredCounts> {
  return withSql(url, async (sql) => {
    const rows = await sql<{ request_id: string; n: number }[]>`
      select request_id, count(*)::int as n from ml_prediction where model_version = ${modelVersion} group by request_id`;
    const [rollup] = await sql<{ n: number }[]>`
      select coalesce(sum(predictions), 0)::int as n from ml_rollup_minute where model_version = ${modelVersion}`;
    return { rows: new Map(rows.map((r) => [r.request_id, r.n])), rollupPredictions: rollup!.n };
  });
}

/** The figure of a fault test: acknowledged predictions against what the table and rollups hold. */
export interface LedgerFigure {
  acknowledged: number;
  stored: number;
  lost: number;
  doubled: number;
  rollupPredictions: number;
  storedButNotAcknowledged: number;
}

export function ledger(acknowledged: Set<string>, attempted: Set<string>, stored: StoredCounts): LedgerFigure {
  let lost = 0;
  let doubled = 0;
  let storedRows = 0;
  let extra = 0;
  for (const id of acknowledged) if (!stored.rows.has(id)) lost++;
  for (const [id, n] of stored.rows) {
    storedRows += n;
    if (n > 1) doubled += n - 1;
    if (!acknowledged.has(id)) extra++;
    if (!attempted.has(id)) throw new Error(`a row with a request_id no client sent: ${id}`);
  }
  return { acknowledged: acknowledged.size, stored: storedRows, lost, doubled, rollupPredictions: stored.rollupPredictions, storedButNotAcknowledged: extra };
}

/**
 * Steady ingest: `clients` loops, each sending one prediction (or a batch of `batch`) every
 * `intervalMs`, each request_id unique. A refused request is retried with the same ids (as a
 * client honouring Retry-After would), so nothing is given up while the test runs.
 */
export interface IngestLoad {
  acknowledged: Set<string>;
  attempted: Set<string>;
  /** Every answer: status, ms, error. */
  answers: CallResult[];
  stop(): Promise<void>;
}

export function startIngestLoad(
  base: string,
  token: string,
  modelVersion: string,
  { clients = 4, intervalMs = 40, batch = 1, timeoutMs = 15_000, retryDelayMs = 250 }: { clients?: number; intervalMs?: number; batch?: number; timeoutMs?: number; retryDelayMs?: number } = {},
): IngestLoad {
  const acknowledged = new Set<string>();
  const attempted = new Set<string>();
  const answers: CallResult[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async (_, client) => {
    let n = 0;
    let pending: { ids: string[]; body: unknown } | undefined;
    while (running) {
      if (!pending) {
        const ids = Array.from({ length: batch }, () => `${modelVersion}-c${client}-${n++}`);
        const body = batch === 1 ? prediction(modelVersion, ids[0]!) : ids.map((id) => prediction(modelVersion, id));
        pending = { ids, body };
      }
      for (const id of pending.ids) attempted.add(id);
      const answer = await call(base, 'POST', `${API}/predictions`, { token, body: pending.body, timeoutMs });
      answers.push(answer);
      if (answer.status >= 200 && answer.status < 300) {
        for (const id of pending.ids) acknowledged.add(id);
        pending = undefined;
        await sleep(intervalMs);
      } else {
        await sleep(retryDelayMs);
      }
    }
  });
  return {
    acknowledged,
    attempted,
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * Registers beforeAll/afterAll that run the service as a real process on a fresh test database
 * (warnings only in its log), and returns a getter for it inside the tests, with one for the
 * database (`.database()`), for tests that look at what was stored.
 */
export function useServiceOnTestDatabase(env: Record<string, string> = {}): (() => RunningService) & { database(): TestDatabase } {
  let db: TestDatabase | undefined;
  let service: RunningService | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startServiceProcess({ databaseUrl: db.url, env: { LOG_LEVEL: 'warn', ...env } });
  }, 60_000);
  afterAll(async () => {
    await service?.stop('SIGKILL');
    await db?.drop();
  }, 30_000);
  const running = () => {
    if (!service) throw new Error('the service did not start (see beforeAll)');
    return service;
  };
  return Object.assign(running, {
    database: () => {
      if (!db) throw new Error('the test database was not created (see beforeAll)');
      return db;
    },
  });
}
