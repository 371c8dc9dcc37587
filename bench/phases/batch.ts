/**
 * Goal 2: batch ingest (POST arrays of 1,000) against a raw COPY of the same rows into the same
 * table with postgres.js (`copy ... from stdin` writable), alternating which goes first each
 * round. Bodies and COPY text are generated before the clock starts, for both sides. The raw COPY
 * maintains no rollup and joins no actuals: the ratio is the price of the service's write path.
 * The streaming NDJSON endpoint (POST /api/ml-monitoring/predictions/bulk, or --ndjson-path) is
 * measured in the same rounds when the service under test has it.
 */
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { authHeader, mlmonOn, type Context } from '../lib/context.js';
import { cannon, msSince, nowNs, type CannonResult } from '../lib/load.js';
import type { Server } from '../lib/processes.js';
import { batchJson, COPY_COLUMNS, copyLine, predictionJson } from '../lib/rows.js';
import type { ProfileSummary } from '../lib/profile.js';
import { profileMlmon } from '../lib/profiling.js';
import { tableState, writesBetween, type WriteStats } from '../lib/db-stats.js';
import { backendCpu, backendCpuBetween, processCpuMs } from '../lib/cpu.js';
import { spread, type Spread } from '../lib/stats.js';
import { sampleWaits, type WaitProfile } from '../lib/waits.js';

export interface BatchRound {
  round: number;
  httpRowsPerSecond: number;
  copyRowsPerSecond: number;
  ndjsonRowsPerSecond: number | null;
  ratio: number;
  ndjsonRatio: number | null;
  httpP99Ms: number;
  httpNon2xx: number;
  /** Rows found in the table after the HTTP part minus before, vs rows acknowledged. */
  httpCommitted: number;
  httpAcknowledged: number;
  /** Rows per write transaction of the HTTP part (group commit merges concurrent batches). */
  httpRowsPerTransaction: number;
  /** CPU per stored row, µs: the database backends and the service process, for each method. */
  cpuUsPerRow: { http: CpuPerRow; copy: CpuPerRow; ndjson: CpuPerRow | null };
}

export interface CpuPerRow {
  database: number;
  /** The service process (null for the raw COPY, which has none). */
  service: number | null;
}

export interface BatchResult {
  batchSize: number;
  batchesPerRound: number;
  connections: number;
  rounds: BatchRound[];
  ratio: Spread;
  ndjsonRatio: Spread | null;
  httpRowsPerSecond: Spread;
  copyRowsPerSecond: Spread;
  ndjsonNote: string;
  /** Database CPU per row of HTTP batches / NDJSON over that of the raw COPY (lower is better). */
  databaseCpuRatio: Spread;
  ndjsonDatabaseCpuRatio: Spread | null;
  /** Service sessions during the first round's HTTP batches. */
  waits: WaitProfile | null;
  /** CPU profile of the service while it takes HTTP batches. */
  profile: ProfileSummary | null;
}

interface NdjsonAnswer {
  status: number;
  body: string;
}

/** Streams NDJSON lines in one request. */
async function postNdjson(baseUrl: string, path: string, token: string, chunks: string[]): Promise<NdjsonAnswer> {
  const url = new URL(baseUrl);
  return new Promise<NdjsonAnswer>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...authHeader(token) } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(300_000, () => req.destroy(new Error('NDJSON POST timed out')));
    req.on('error', reject);
    pipeline(Readable.from(chunks), req).catch(reject);
  });
}

/** Rows per second of one streamed NDJSON load, checking that every line was accepted. */
async function ndjsonLoad(baseUrl: string, path: string, token: string, chunks: string[], rows: number): Promise<number> {
  const started = nowNs();
  const answer = await postNdjson(baseUrl, path, token, chunks);
  const seconds = msSince(started) / 1000;
  if (answer.status >= 300) throw new Error(`NDJSON POST ${path} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const accepted = (JSON.parse(answer.body) as { accepted?: number }).accepted;
  if (accepted !== rows) throw new Error(`NDJSON POST ${path} accepted ${accepted} of ${rows} lines: ${answer.body.slice(0, 300)}`);
  return rows / seconds;
}

/** Joins lines into chunks of about 1 MB. */
function chunked(lines: Iterable<string>): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    current.push(line);
    size += line.length;
    if (size >= 1 << 20) {
      chunks.push(current.join(''));
      current = [];
      size = 0;
    }
  }
  if (current.length > 0) chunks.push(current.join(''));
  return chunks;
}

export async function batchIngest(ctx: Context): Promise<BatchResult> {
  const { batchesPerRound, batchSize, connections, ndjsonPath: requestedNdjsonPath } = ctx.options.batch;
  const rows = batchesPerRound * batchSize;
  const db = await ctx.cluster.createDatabase('batch');
  let mlmon: Server | undefined;
  try {
    mlmon = await mlmonOn(ctx, db.url);
    // The NDJSON endpoint exists from some commit on: probe it (an empty body is refused with a 400, a missing route is a 404).
    const probe = await postNdjson(mlmon.baseUrl, requestedNdjsonPath, ctx.tokens.ingest, []);
    const ndjsonPath = probe.status === 404 ? undefined : requestedNdjsonPath;
    const httpAt = async (url: string, bodies: string[]) =>
      cannon({
        url,
        path: '/api/ml-monitoring/predictions',
        connections,
        amount: bodies.length,
        headers: authHeader(ctx.tokens.ingest),
        body: (n) => bodies[n % bodies.length]!,
      });
    const http = (bodies: string[]) => httpAt(mlmon!.baseUrl, bodies);
    const copy = async (chunks: string[]) => {
      const started = nowNs();
      const writable = await db.sql`copy ml_prediction (${db.sql(COPY_COLUMNS as unknown as string[])}) from stdin`.writable();
      await pipeline(Readable.from(chunks), writable);
      return rows / (msSince(started) / 1000);
    };
    const bodiesOf = (prefix: string) => Array.from({ length: batchesPerRound }, (_, b) => batchJson(prefix, b * batchSize, batchSize));
    const copyChunksOf = (prefix: string) => chunked((function* () { for (let i = 0; i < rows; i++) yield copyLine(prefix, i); })());

    // Warm-up: a few batches and a small COPY (JIT, connection pools, plans).
    await http(bodiesOf('bwarm').slice(0, Math.min(5, batchesPerRound)));
    await copy(chunked((function* () { for (let i = 0; i < 5000; i++) yield copyLine('cwarm', i); })()));

    const rounds: BatchRound[] = [];
    let waits: WaitProfile | null = null;
    for (let round = 1; round <= ctx.options.rounds; round++) {
      const bodies = bodiesOf(`b${round}`);
      const copyChunks = copyChunksOf(`c${round}`);
      const ndjsonChunks = ndjsonPath
        ? chunked((function* () { for (let i = 0; i < rows; i++) yield predictionJson(`n${round}`, i) + '\n'; })())
        : null;
      const m: { http?: CannonResult; copyRate: number; ndjsonRate: number | null; writes?: WriteStats; cpu: Partial<Record<'http' | 'copy' | 'ndjson', CpuPerRow>> } =
        { copyRate: 0, ndjsonRate: null, cpu: {} };
      // CPU of the database backends (the service's, or the bench's own COPY connection) and of the service process.
      const cpuOf = async (owner: 'service' | 'others', work: () => Promise<void>): Promise<CpuPerRow> => {
        const [backends, service] = [await backendCpu(db.sql, db.name, owner), owner === 'service' ? await processCpuMs(mlmon!.pid) : null];
        await work();
        const database = backendCpuBetween(backends, await backendCpu(db.sql, db.name, owner));
        const serviceAfter = owner === 'service' ? await processCpuMs(mlmon!.pid) : null;
        return { database: (database * 1000) / rows, service: service === null || serviceAfter === null ? null : ((serviceAfter - service) * 1000) / rows };
      };
      const methods: Record<string, () => Promise<void>> = {
        http: async () => {
          const before = await tableState(db.sql);
          const sampler = round === 1 ? sampleWaits(db.sql, db.name, 100, 120) : null;
          m.cpu.http = await cpuOf('service', async () => {
            m.http = await http(bodies);
          });
          if (sampler) waits = await sampler.stop();
          m.writes = writesBetween(before, await tableState(db.sql));
        },
        copy: async () => {
          m.cpu.copy = await cpuOf('others', async () => {
            m.copyRate = await copy(copyChunks);
          });
        },
        ...(ndjsonChunks
          ? {
              ndjson: async () => {
                m.cpu.ndjson = await cpuOf('service', async () => {
                  m.ndjsonRate = await ndjsonLoad(mlmon!.baseUrl, ndjsonPath!, ctx.tokens.ingest, ndjsonChunks, rows);
                });
              },
            }
          : {}),
      };
      // Rotate which goes first, so that neither always meets the table (or the machine) in the same state.
      const names = Object.keys(methods);
      for (let k = 0; k < names.length; k++) await methods[names[(k + round - 1) % names.length]!]!();
      const r = m.http!;
      const { copyRate, ndjsonRate } = m;
      const writes = m.writes!;
      const httpRate = (r.ok * batchSize) / r.seconds;
      rounds.push({
        round,
        httpRowsPerSecond: httpRate,
        copyRowsPerSecond: copyRate,
        ndjsonRowsPerSecond: ndjsonRate,
        ratio: httpRate / copyRate,
        ndjsonRatio: ndjsonRate === null ? null : ndjsonRate / copyRate,
        httpP99Ms: r.latencyMs.p99,
        httpNon2xx: r.non2xx + r.errors,
        httpCommitted: writes.rows,
        httpRowsPerTransaction: writes.rowsPerTransaction,
        httpAcknowledged: r.ok * batchSize,
        cpuUsPerRow: { http: m.cpu.http!, copy: m.cpu.copy!, ndjson: m.cpu.ndjson ?? null },
      });
      ctx.log(`  round ${round}: HTTP batches ${Math.round(httpRate)} rows/s (p99 ${r.latencyMs.p99} ms), raw COPY ${Math.round(copyRate)} rows/s` +
        (ndjsonRate === null ? '' : `, NDJSON ${Math.round(ndjsonRate)} rows/s`));
    }
    const profileBodies = bodiesOf('bprof').slice(0, Math.min(50, batchesPerRound));
    const profile = await profileMlmon(
      ctx,
      db.url,
      (baseUrl) => httpAt(baseUrl, bodiesOf('bprofwarm').slice(0, Math.min(5, batchesPerRound))),
      (baseUrl) => httpAt(baseUrl, profileBodies),
    );
    return {
      waits,
      profile,
      batchSize,
      batchesPerRound,
      connections,
      rounds,
      ratio: spread(rounds.map((r) => r.ratio)),
      ndjsonRatio: ndjsonPath ? spread(rounds.map((r) => r.ndjsonRatio ?? Number.NaN)) : null,
      httpRowsPerSecond: spread(rounds.map((r) => r.httpRowsPerSecond)),
      copyRowsPerSecond: spread(rounds.map((r) => r.copyRowsPerSecond)),
      databaseCpuRatio: spread(rounds.map((r) => r.cpuUsPerRow.http.database / r.cpuUsPerRow.copy.database)),
      ndjsonDatabaseCpuRatio: ndjsonPath ? spread(rounds.map((r) => (r.cpuUsPerRow.ndjson?.database ?? Number.NaN) / r.cpuUsPerRow.copy.database)) : null,
      ndjsonNote: ndjsonPath
        ? `Streaming NDJSON (one request of ${rows.toLocaleString('en')} lines to ${ndjsonPath}) measured in the same rounds`
        : `The service under test has no ${requestedNdjsonPath} (404): streaming NDJSON not measured`,
    };
  } finally {
    await mlmon?.stop();
    await ctx.cluster.dropDatabase(db);
  }
}
