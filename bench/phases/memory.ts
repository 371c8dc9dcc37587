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
import { mean, slope } from '../lib/stats.js';

export interface MemoryResult {
  seconds: number;
  idleMb: number;
  maxMb: number;
  lastMb: number;
  /** Least-squares slope of RSS over the second half of the run, MB per minute. */
  secondHalfSlopeMbPerMin: number;
  /** Mean RSS of the last third of the run minus that of the middle third (GC sawtooth averages out). */
  lastThirdGrowthMb: number;
  samples: { t: number; mb: number }[];
  /** From the service's own /metrics (prom-client default metrics), at each scrape. */
  heap: { t: number; heapUsedMb: number; externalMb: number }[];
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
    const heap: MemoryResult['heap'] = [];
    const gauge = (text: string, name: string) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
      return match ? Number(match[1]) / MB : Number.NaN;
    };
    const scraper = (async () => {
      const client = getter(mlmon!.baseUrl);
      try {
        while (running && Date.now() - started < seconds * 1000) {
          const text = await client.get('/metrics');
          scrapes++;
          heap.push({ t: (Date.now() - started) / 1000, heapUsedMb: gauge(text, 'nodejs_heap_size_used_bytes'), externalMb: gauge(text, 'nodejs_external_memory_bytes') });
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
    const meanMb = (from: number, to: number) => mean(samples.filter((s) => s.t >= from && s.t < to).map((s) => s.mb));
    return {
      seconds,
      idleMb: idle / MB,
      maxMb: Math.max(...samples.map((s) => s.mb)),
      lastMb: samples[samples.length - 1]?.mb ?? Number.NaN,
      secondHalfSlopeMbPerMin: slope(half.map((s) => ({ x: s.t / 60, y: s.mb }))),
      lastThirdGrowthMb: meanMb((2 * seconds) / 3, Number.POSITIVE_INFINITY) - meanMb(seconds / 3, (2 * seconds) / 3),
      samples,
      heap,
      ingested: { singles: singles.ok, batchRows: batches.ok * 1000, scrapes },
    };
  } finally {
    await mlmon?.stop();
    await ctx.cluster.dropDatabase(db);
  }
}
