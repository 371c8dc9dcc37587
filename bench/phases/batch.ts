/**
 * Goal 2: batch ingest (POST arrays of 1,000) against a raw COPY of the same rows into the same
 * table with postgres.js (`copy ... from stdin` writable), alternating which goes first each
 * round. Bodies and COPY text are generated before the clock starts, for both sides. The raw COPY
 * maintains no rollup and joins no actuals: the ratio is the price of the service's write path.
 * With --ndjson-path, a streaming NDJSON endpoint (issue 6, not in the service yet) is measured too.
 */
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { authHeader, mlmonOn, type Context } from '../lib/context.js';
import { cannon, msSince, nowNs } from '../lib/load.js';
import type { Server } from '../lib/processes.js';
import { batchJson, COPY_COLUMNS, copyLine, predictionJson } from '../lib/rows.js';
import { spread, type Spread } from '../lib/stats.js';

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
}

/** Streams NDJSON lines in one request; resolves with the rows per second when answered 2xx. */
async function postNdjson(baseUrl: string, path: string, token: string, chunks: string[], rows: number): Promise<number> {
  const url = new URL(baseUrl);
  const started = nowNs();
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...authHeader(token) } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`NDJSON POST answered ${res.statusCode}: ${body.slice(0, 300)}`)),
        );
      },
    );
    req.setTimeout(300_000, () => req.destroy(new Error('NDJSON POST timed out')));
    req.on('error', reject);
    pipeline(Readable.from(chunks), req).catch(reject);
  });
  return rows / (msSince(started) / 1000);
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
  const { batchesPerRound, batchSize, connections, ndjsonPath } = ctx.options.batch;
  const rows = batchesPerRound * batchSize;
  const db = await ctx.cluster.createDatabase('batch');
  let mlmon: Server | undefined;
  try {
    mlmon = await mlmonOn(ctx, db.url);
    const count = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from ml_prediction`)[0]!.n;
    const http = async (prefix: string, bodies: string[]) =>
      cannon({
        url: mlmon!.baseUrl,
        path: '/api/ml-monitoring/predictions',
        connections,
        amount: bodies.length,
        headers: authHeader(ctx.tokens.ingest),
        body: (n) => bodies[n % bodies.length]!,
      });
    const copy = async (chunks: string[]) => {
      const started = nowNs();
      const writable = await db.sql`copy ml_prediction (${db.sql(COPY_COLUMNS as unknown as string[])}) from stdin`.writable();
      await pipeline(Readable.from(chunks), writable);
      return rows / (msSince(started) / 1000);
    };
    const bodiesOf = (prefix: string) => Array.from({ length: batchesPerRound }, (_, b) => batchJson(prefix, b * batchSize, batchSize));
    const copyChunksOf = (prefix: string) => chunked((function* () { for (let i = 0; i < rows; i++) yield copyLine(prefix, i); })());

    // Warm-up: a few batches and a small COPY (JIT, connection pools, plans).
    await http('bwarm', bodiesOf('bwarm').slice(0, Math.min(5, batchesPerRound)));
    await copy(chunked((function* () { for (let i = 0; i < 5000; i++) yield copyLine('cwarm', i); })()));

    const rounds: BatchRound[] = [];
    for (let round = 1; round <= ctx.options.rounds; round++) {
      const bodies = bodiesOf(`b${round}`);
      const copyChunks = copyChunksOf(`c${round}`);
      const ndjsonChunks = ndjsonPath
        ? chunked((function* () { for (let i = 0; i < rows; i++) yield predictionJson(`n${round}`, i) + '\n'; })())
        : null;
      let httpResult: Awaited<ReturnType<typeof http>> | undefined;
      let copyRate = 0;
      let committed = 0;
      const runHttp = async () => {
        const before = await count();
        httpResult = await http(`b${round}`, bodies);
        committed = (await count()) - before;
      };
      const runCopy = async () => {
        copyRate = await copy(copyChunks);
      };
      if (round % 2 === 1) {
        await runHttp();
        await runCopy();
      } else {
        await runCopy();
        await runHttp();
      }
      const ndjsonRate = ndjsonChunks ? await postNdjson(mlmon.baseUrl, ndjsonPath!, ctx.tokens.ingest, ndjsonChunks, rows) : null;
      const r = httpResult!;
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
        httpCommitted: committed,
        httpAcknowledged: r.ok * batchSize,
      });
      ctx.log(`  round ${round}: HTTP batches ${Math.round(httpRate)} rows/s (p99 ${r.latencyMs.p99} ms), raw COPY ${Math.round(copyRate)} rows/s` +
        (ndjsonRate === null ? '' : `, NDJSON ${Math.round(ndjsonRate)} rows/s`));
    }
    return {
      batchSize,
      batchesPerRound,
      connections,
      rounds,
      ratio: spread(rounds.map((r) => r.ratio)),
      ndjsonRatio: ndjsonPath ? spread(rounds.map((r) => r.ndjsonRatio ?? Number.NaN)) : null,
      httpRowsPerSecond: spread(rounds.map((r) => r.httpRowsPerSecond)),
      copyRowsPerSecond: spread(rounds.map((r) => r.copyRowsPerSecond)),
      ndjsonNote: ndjsonPath
        ? `streaming NDJSON measured at ${ndjsonPath}`
        : 'the streaming NDJSON endpoint does not exist in the service yet: not measured (pass --ndjson-path <route> once it does)',
    };
  } finally {
    await mlmon?.stop();
    await ctx.cluster.dropDatabase(db);
  }
}
