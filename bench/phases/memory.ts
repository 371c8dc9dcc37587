/**
 * Goal 5: RSS of the service process (`node dist/main.js`, as `npm start` runs it; the embedded
 * PostgreSQL is a separate process and not counted) under sustained ingest: single POSTs at
 * concurrency 64 plus two clients posting batches of 1,000, plus a Prometheus scrape every 5 s,
 * sampled once a second from /proc/<pid>/status.
 */
import { authHeader, mlmonOn, type Context } from '../lib/context.js';
import { cannon, getter } from '../lib/load.js';
import { rssOf, type Server } from '../lib/processes.js';
import { batchJson, predictionJson } from '../lib/rows.js';
import { slope } from '../lib/stats.js';

export interface MemoryResult {
  seconds: number;
  idleMb: number;
  maxMb: number;
  lastMb: number;
  /** Least-squares slope of RSS over the second half of the run, MB per minute. */
  secondHalfSlopeMbPerMin: number;
  samples: { t: number; mb: number }[];
  ingested: { singles: number; batchRows: number; scrapes: number };
}

const MB = 1024 * 1024;

export async function memory(ctx: Context): Promise<MemoryResult> {
  const { seconds, connections } = ctx.options.memory;
  const db = await ctx.cluster.createDatabase('memory');
  let mlmon: Server | undefined;
  try {
    mlmon = await mlmonOn(ctx, db.url);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = (await rssOf(mlmon.pid)) ?? Number.NaN;
    const samples: { t: number; mb: number }[] = [];
    const started = Date.now();
    let running = true;
    const sampler = (async () => {
      while (running && Date.now() - started < (seconds + 30) * 1000) {
        const rss = await rssOf(mlmon!.pid);
        if (rss !== null) samples.push({ t: (Date.now() - started) / 1000, mb: rss / MB });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    let scrapes = 0;
    const scraper = (async () => {
      const client = getter(mlmon!.baseUrl);
      try {
        while (running && Date.now() - started < seconds * 1000) {
          await client.get('/metrics');
          scrapes++;
          await new Promise((resolve) => setTimeout(resolve, 5000));
        }
      } finally {
        client.close();
      }
    })();
    const headers = authHeader(ctx.tokens.ingest);
    const [singles, batches] = await Promise.all([
      cannon({ url: mlmon.baseUrl, path: '/api/ml-monitoring/predictions', connections, durationSeconds: seconds, headers, body: (n) => predictionJson('mem', n) }),
      cannon({ url: mlmon.baseUrl, path: '/api/ml-monitoring/predictions', connections: 2, durationSeconds: seconds, headers, body: (n) => batchJson(`memb${n}`, 0, 1000) }),
    ]);
    running = false;
    await Promise.all([sampler, scraper]);
    const half = samples.filter((s) => s.t >= seconds / 2);
    return {
      seconds,
      idleMb: idle / MB,
      maxMb: Math.max(...samples.map((s) => s.mb)),
      lastMb: samples[samples.length - 1]?.mb ?? Number.NaN,
      secondHalfSlopeMbPerMin: slope(half.map((s) => ({ x: s.t / 60, y: s.mb }))),
      samples,
      ingested: { singles: singles.ok, batchRows: batches.ok * 1000, scrapes },
    };
  } finally {
    await mlmon?.stop();
    await ctx.cluster.dropDatabase(db);
  }
}
