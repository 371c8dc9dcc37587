/**
 * Goal 3: read latency at growing stored history (10k, 1M; 10M with --huge), the history spread
 * over the same span (default 30 days) so that only density grows, loaded directly into the
 * tables (rows + actuals + rollup) by SQL. For each size: the four read endpoints on the service
 * (sequential requests over one keep-alive connection, configured as deployed: the scrape serves
 * gauges refreshed in the background), the scrape once more on a second service that reads the
 * gauges during every scrape (MLMON_METRICS_CACHE_SECONDS=0: what the background refresh costs),
 * the dashboard's anomaly list (reported for its growth, not a goal), and the same answers
 * computed by SQL over the raw rows (no HTTP: the baseline is favoured), in alternating slices.
 * Before timing, the service's /metrics answer for a fixed window is checked against SQL over the
 * rows.
 */
import { authHeader, mlmonOn, type Context } from '../lib/context.js';
import { loadDataset, type LoadTimings } from '../lib/dataset.js';
import { getter, sampleSideBySide } from '../lib/load.js';
import type { Server } from '../lib/processes.js';
import { rawAnomalies24h, rawDaily, rawMetrics, rawMetrics24h, rawScrape, rawSummary } from '../lib/raw-sql.js';
import type { LatencySummary } from '../lib/stats.js';
import type postgres from 'postgres';

/** The reads of goal 3a. */
export const GOAL_ENDPOINTS = ['summary', 'metrics_24h', 'daily_30d', 'scrape'] as const;
/** The reads that aggregate, held to goals 3b and 3c: the goal reads and the scrape that reads its gauges during the scrape. */
export const AGGREGATE_ENDPOINTS = [...GOAL_ENDPOINTS, 'scrape_uncached'] as const;
/**
 * Every timed read: also the dashboard's anomaly list, a list rather than an aggregate, whose SQL
 * over the rows reads the same anomaly index (migration 00010). Reported for its growth.
 */
export const READ_ENDPOINTS = [...AGGREGATE_ENDPOINTS, 'anomalies_24h'] as const;
export type ReadEndpoint = (typeof READ_ENDPOINTS)[number];

export const ENDPOINT_PATHS: Record<ReadEndpoint, string> = {
  summary: '/api/ml-monitoring/summary',
  metrics_24h: '/api/ml-monitoring/metrics?hours=24',
  daily_30d: '/api/ml-monitoring/daily?days=30',
  scrape: '/metrics',
  scrape_uncached: '/metrics',
  anomalies_24h: '/api/ml-monitoring/anomalies?hours=24&limit=1000',
};

export const ENDPOINT_LABELS: Record<ReadEndpoint, string> = {
  summary: '`/api/ml-monitoring/summary`',
  metrics_24h: '`/api/ml-monitoring/metrics?hours=24`',
  daily_30d: '`/api/ml-monitoring/daily?days=30`',
  scrape: '`/metrics` (gauges refreshed in the background, as deployed)',
  scrape_uncached: '`/metrics` with `MLMON_METRICS_CACHE_SECONDS=0` (gauges read during the scrape)',
  anomalies_24h: '`/api/ml-monitoring/anomalies?hours=24&limit=1000` (the dashboard\'s anomaly table; a list, not a goal endpoint)',
};

const RAW: Record<ReadEndpoint, (sql: postgres.Sql) => Promise<unknown>> = {
  summary: (sql) => rawSummary(sql),
  metrics_24h: (sql) => rawMetrics24h(sql),
  daily_30d: (sql) => rawDaily(sql, 30),
  scrape: (sql) => rawScrape(sql),
  scrape_uncached: (sql) => rawScrape(sql),
  anomalies_24h: (sql) => rawAnomalies24h(sql),
};

export interface Consistency {
  ok: boolean;
  window: { from: string; to: string };
  service: Record<string, number | null>;
  raw: Record<string, number | null>;
  mismatches: string[];
}

export interface SizeResult {
  rows: number;
  load: LoadTimings;
  consistency: Consistency;
  endpoints: Record<ReadEndpoint, { mlmon: LatencySummary; raw: LatencySummary; speedupP50: number; speedupP99: number }>;
  /** Predictions in the 24 h and 7 d windows (what the raw SQL has to scan). */
  windowRows: { h24: number; d7: number };
}

export interface ReadsResult {
  spanDays: number;
  sizes: SizeResult[];
  /** Largest size over smallest, per endpoint. */
  growth: Record<ReadEndpoint, { p50: number; p99: number }>;
}

const FIELDS = ['predictions', 'count', 'mae', 'rmse', 'r2', 'accuracy_rate', 'avg_confidence', 'avg_prediction_time_ms', 'anomalies'] as const;

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

export async function checkConsistency(sql: postgres.Sql, get: (path: string) => Promise<string>): Promise<Consistency> {
  const to = new Date(Date.now() - 60_000);
  const from = new Date(to.getTime() - 7 * 24 * 3_600_000 + 12_345);
  const service = JSON.parse(await get(`/api/ml-monitoring/metrics?from=${from.toISOString()}&to=${to.toISOString()}`)) as Record<string, number | null>;
  const raw = (await rawMetrics(sql, from, to)) as unknown as Record<string, number | null>;
  const mismatches = FIELDS.filter((f) => !close(service[f] ?? null, raw[f] ?? null)).map((f) => `${f}: service ${service[f]} vs rows ${raw[f]}`);
  const pick = (o: Record<string, number | null>) => Object.fromEntries(FIELDS.map((f) => [f, o[f] ?? null]));
  return { ok: mismatches.length === 0, window: { from: from.toISOString(), to: to.toISOString() }, service: pick(service), raw: pick(raw), mismatches };
}

export async function reads(ctx: Context): Promise<ReadsResult> {
  const { sizes, spanDays, mlmon: mlmonBounds, raw: rawBounds } = ctx.options.reads;
  const results: SizeResult[] = [];
  for (const rows of sizes) {
    ctx.log(` size ${rows.toLocaleString('en')}: loading`);
    const db = await ctx.cluster.createDatabase(`reads${rows}`);
    const services: Server[] = [];
    try {
      const load = await loadDataset(db.sql, { rows, spanDays, log: ctx.log });
      ctx.log(`  loaded in ${load.seconds.total.toFixed(1)} s (${Math.round(load.rowsPerSecond)} rows/s), rollup ${load.rollupRows} rows, table ${load.tableMb} MB`);
      const [windowRows] = await db.sql<{ h24: number; d7: number }[]>`
        select count(*) filter (where created_at > now() - interval '24 hours')::int as h24,
               count(*) filter (where created_at > now() - interval '7 days')::int as d7
        from ml_prediction`;
      const deployed = await mlmonOn(ctx, db.url);
      services.push(deployed);
      const uncached = await mlmonOn(ctx, db.url, { metricsCacheSeconds: 0, name: 'mlmon-uncached' });
      services.push(uncached);
      const clients = { deployed: getter(deployed.baseUrl, authHeader(ctx.tokens.read)), uncached: getter(uncached.baseUrl, authHeader(ctx.tokens.read)) };
      try {
        const consistency = await checkConsistency(db.sql, clients.deployed.get);
        if (!consistency.ok) ctx.log(`  CONSISTENCY MISMATCH: ${consistency.mismatches.join('; ')}`);
        // Not timed: the rows must be ones clients could have stored, which /anomalies lists as
        // stored (the getter throws on an error status).
        const listed = JSON.parse(await clients.deployed.get('/api/ml-monitoring/anomalies?hours=720&limit=100')) as unknown[];
        if (listed.length === 0) throw new Error('the dataset has no anomalies to list');
        const endpoints = {} as SizeResult['endpoints'];
        for (const endpoint of READ_ENDPOINTS) {
          const path = ENDPOINT_PATHS[endpoint];
          const client = endpoint === 'scrape_uncached' ? clients.uncached : clients.deployed;
          for (let i = 0; i < 5; i++) await client.get(path);
          await RAW[endpoint](db.sql);
          const [mlmonLatency, rawLatency] = await sampleSideBySide(() => client.get(path), mlmonBounds, () => RAW[endpoint](db.sql), rawBounds);
          endpoints[endpoint] = {
            mlmon: mlmonLatency,
            raw: rawLatency,
            speedupP50: rawLatency.p50 / mlmonLatency.p50,
            speedupP99: rawLatency.p99 / mlmonLatency.p99,
          };
          ctx.log(`  ${endpoint}: mlmon p50 ${mlmonLatency.p50.toFixed(2)} ms p99 ${mlmonLatency.p99.toFixed(2)} ms (n=${mlmonLatency.n}); ` +
            `raw SQL p50 ${rawLatency.p50.toFixed(1)} ms (n=${rawLatency.n}); speedup x${(rawLatency.p50 / mlmonLatency.p50).toFixed(1)}`);
        }
        results.push({ rows, load, consistency, endpoints, windowRows: windowRows! });
      } finally {
        clients.deployed.close();
        clients.uncached.close();
      }
    } finally {
      await Promise.all(services.map((service) => service.stop()));
      await ctx.cluster.dropDatabase(db);
    }
  }
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const growth = Object.fromEntries(
    READ_ENDPOINTS.map((e) => [e, { p50: last.endpoints[e].mlmon.p50 / first.endpoints[e].mlmon.p50, p99: last.endpoints[e].mlmon.p99 / first.endpoints[e].mlmon.p99 }]),
  ) as ReadsResult['growth'];
  return { spanDays, sizes: results, growth };
}
