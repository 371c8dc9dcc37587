import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { connect, READ_POOL_SIZE } from '../../src/db/connect.js';
import type { ErrorRules } from '../../src/aggregate/contribution.js';
import type { Tokens } from '../../src/server/tokens.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const API = '/api/ml-monitoring';

/**
 * What a request returned. (Fastify's `app.inject` cannot be used under jest on Node 20: its
 * light-my-request requires the ESM-only `cookie` 2 package, which jest's CommonJS loader refuses.
 * The tests therefore talk real HTTP to the app listening on an ephemeral loopback port.)
 */
export interface Reply {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = any>(): T;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One HTTP request on a keep-alive agent, nothing added or normalised (the path is sent as is). */
export function rawRequest(baseUrl: string, agent: Agent | undefined, r: RawRequest): Promise<Reply> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        agent,
        headers: { ...(r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) }), ...r.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  tokens: Tokens;
  rules: ErrorRules;
  baseUrl: string;
  /** GET with the read token (or the given one; null = no Authorization header). */
  get(url: string, token?: string | null): Promise<Reply>;
  /** POST JSON (a string is sent verbatim) with the ingest token (or the given one). */
  post(url: string, body: unknown, token?: string | null): Promise<Reply>;
  put(url: string, body: unknown, token?: string | null): Promise<Reply>;
  raw(r: RawRequest): Promise<Reply>;
  close(): Promise<void>;
}

export const newToken = () => randomBytes(20).toString('hex');

const auth = (token: string | null | undefined): Record<string, string> =>
  token === null || token === undefined ? {} : { authorization: `Bearer ${token}` };

/**
 * The service as `buildApp` assembles it, on a fresh migrated database of the test cluster,
 * listening on a loopback port (see Reply for why not `app.inject`). Tokens are random per suite;
 * the rules default to the seed's 3 / 5 minutes.
 *
 * With `replicaOf`, a second replica of that app instead: its database, tokens and rules, but a
 * process state of its own (connection pool, group-commit writers, metrics registry), as another
 * process behind a load balancer would have. Its close ends only its pool: close it before the
 * app it replicates, which drops the database.
 */
export async function startTestApp(
  options: {
    metricsToken?: boolean;
    rules?: Partial<ErrorRules>;
    metricsCacheSeconds?: number;
    maxModelVersions?: number;
    retentionDays?: number;
    /** A read pool of its own with this statement timeout, as the service runs; default: reads share the pool. */
    readTimeoutSeconds?: number;
    replicaOf?: TestApp;
  } = {},
): Promise<TestApp> {
  const { replicaOf } = options;
  const db = replicaOf?.db ?? (await createTestDatabase());
  const pool = replicaOf ? connect(db.url) : db.sql;
  const tokens: Tokens = replicaOf?.tokens ?? { ingest: newToken(), read: newToken(), metrics: options.metricsToken ? newToken() : undefined };
  const rules: ErrorRules = replicaOf?.rules ?? { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5, ...options.rules };
  const readPool = options.readTimeoutSeconds === undefined ? undefined : connect(db.url, { max: READ_POOL_SIZE, statementTimeout: options.readTimeoutSeconds });
  const app = await buildApp({
    sql: pool,
    readSql: readPool,
    tokens,
    rules,
    metricsCacheSeconds: options.metricsCacheSeconds ?? 0,
    maxModelVersions: options.maxModelVersions,
    retentionDays: options.retentionDays,
    version: '0.0.0-test',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const payloadOf = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body));
  const raw = (r: RawRequest) => rawRequest(baseUrl, agent, r);
  const withBody = (method: string) => (url: string, body: unknown, token: string | null | undefined = tokens.ingest) =>
    raw({ method, path: url, body: payloadOf(body), headers: { 'content-type': 'application/json', ...auth(token) } });
  return {
    app,
    db,
    tokens,
    rules,
    baseUrl,
    get: (url, token = tokens.read) => raw({ method: 'GET', path: url, headers: auth(token) }),
    post: withBody('POST'),
    put: withBody('PUT'),
    raw,
    async close() {
      agent.destroy();
      await app.close();
      await readPool?.end({ timeout: 5 });
      if (replicaOf) await pool.end({ timeout: 5 });
      else await db.drop();
    },
  };
}

/** Row counts that a rejected request must leave unchanged. */
export async function tableCounts(db: TestDatabase): Promise<{ predictions: number; actuals: number; rollupPredictions: number; rollupLabelled: number; failures: number }> {
  const [row] = await db.sql<{ predictions: number; actuals: number; rollup_predictions: number; rollup_labelled: number; failures: number }[]>`
    select (select count(*) from ml_prediction)::float8 as predictions,
           (select count(*) from ml_actual)::float8 as actuals,
           (select coalesce(sum(predictions), 0) from ml_rollup_minute)::float8 as rollup_predictions,
           (select coalesce(sum(labelled), 0) from ml_rollup_minute)::float8 as rollup_labelled,
           (select coalesce(sum(failures), 0) from ml_request_failure_minute)::float8 as failures`;
  return {
    predictions: row!.predictions,
    actuals: row!.actuals,
    rollupPredictions: row!.rollup_predictions,
    rollupLabelled: row!.rollup_labelled,
    failures: row!.failures,
  };
}
