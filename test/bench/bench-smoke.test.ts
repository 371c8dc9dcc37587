/**
 * Keeps the benchmark (bench/, `npm run bench`) from rotting: transpiles it as the npm script
 * does and runs it in --smoke mode (about a second per part, 2,000 stored predictions, no Flask)
 * against the test cluster and the built service (npm test builds first). Asserts that every part
 * produced sane, non-empty results. Never asserts timings: machines are shared and noisy.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN_TIMEOUT_MS = 240_000;

function run(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;

interface Spread {
  median: number;
  n: number;
}
interface Latency {
  n: number;
  p50: number;
  p99: number;
}

interface Results {
  errors: { phase: string; message: string }[];
  environment: { node: string; cores: number };
  postgres: { version: string };
  ingest: {
    ratio: Spread;
    rate: Record<'noop' | 'mlmon' | 'mlmon_log_warn', Spread>;
    p99Ms: Record<'noop' | 'mlmon', Spread>;
    ackAfterCommit: boolean;
    rounds: { cpuUsPerRequest: Record<'noop' | 'mlmon', { service: number; database: number }>; machineIdle: Record<'noop' | 'mlmon' | 'mlmon_log_warn', number> }[];
    profile: { byCategory: unknown[]; byOwner: unknown[]; busyMs: number } | null;
    waits: { samples: number } | null;
  };
  batch: {
    rounds: { httpRowsPerSecond: number; copyRowsPerSecond: number; ndjsonRowsPerSecond: number | null; httpAcknowledged: number; httpCommitted: number;
      cpuUsPerRow: Record<'http' | 'copy', { database: number; service: number | null }> }[];
    ndjsonRatio: Spread | null;
    profile: { byOwner: unknown[] } | null;
    waits: { samples: number } | null;
  };
  reads: {
    sizes: {
      rows: number;
      load: { rollupRows: number };
      consistency: { ok: boolean; mismatches: string[]; service: { predictions: number } };
      endpoints: Record<string, { mlmon: Latency; raw: Latency; speedupP50: number }>;
    }[];
  };
  memory: { samples: unknown[]; heap: { heapUsedMb: number }[]; maxMb: number; ingested: { singles: number; batchRows: number } };
  actuals: {
    rounds: { mlmon: { ok: number; non2xx: number }; sqlPerSecond: number; ratio: number; labelled: number; acknowledged: number }[];
    ackAfterCommit: boolean;
    waits: { samples: number };
  };
}

describe('benchmark (smoke run)', () => {
  const buildDir = path.join(ROOT, 'bench', `.build-smoke-${randomBytes(4).toString('hex')}`);
  let outDir: string;
  let results: Results;
  let markdown: string;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'mlmon-bench-smoke-'));
    const built = await run([path.join(ROOT, 'bench', 'build.mjs'), '--out', buildDir]);
    expect(built).toEqual({ code: 0, output: '' });
    const smoke = await run(
      [path.join(buildDir, 'main.js'), '--smoke', '--database-url', process.env.MLMON_TEST_DATABASE_URL!, '--out', outDir],
      { MLMON_BENCH_SERVICE_ROOT: undefined },
    );
    if (smoke.code !== 0) throw new Error(`the smoke bench failed (exit ${smoke.code}):\n${smoke.output}`);
    const files = await readdir(outDir);
    const json = files.find((f) => f.endsWith('.json'));
    const md = files.find((f) => f.endsWith('.md'));
    if (!json || !md) throw new Error(`no results written to ${outDir}:\n${smoke.output}`);
    results = JSON.parse(await readFile(path.join(outDir, json), 'utf8')) as Results;
    markdown = await readFile(path.join(outDir, md), 'utf8');
  }, RUN_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await rm(buildDir, { recursive: true, force: true });
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('runs every part without errors and records where it ran', () => {
    expect(results.errors).toEqual([]);
    expect(results.environment.node).toBe(process.version);
    expect(results.environment.cores).toBeGreaterThan(0);
    expect(results.postgres.version).toMatch(/^\d+/);
  });

  it('measures single-prediction ingest against the no-op route, acknowledged after commit', () => {
    const { ingest } = results;
    for (const target of ['noop', 'mlmon', 'mlmon_log_warn'] as const) expect(positive(ingest.rate[target].median)).toBe(true);
    expect(positive(ingest.ratio.median)).toBe(true);
    expect(positive(ingest.p99Ms.mlmon.median)).toBe(true);
    expect(ingest.ackAfterCommit).toBe(true);
    for (const { cpuUsPerRequest: cpu } of ingest.rounds) {
      expect(positive(cpu.noop.service)).toBe(true);
      expect(positive(cpu.mlmon.service)).toBe(true);
      expect(positive(cpu.mlmon.database)).toBe(true); // the service's own backends did the writes
    }
    for (const { machineIdle } of ingest.rounds) {
      for (const idle of Object.values(machineIdle)) {
        expect(idle).toBeGreaterThanOrEqual(0);
        expect(idle).toBeLessThan(1); // the load generator and the server at least were busy
      }
    }
    expect(ingest.waits?.samples).toBeGreaterThan(0);
    expect(ingest.profile?.byCategory.length).toBeGreaterThan(0);
    expect(ingest.profile?.byOwner.length).toBeGreaterThan(0);
    expect(positive(ingest.profile?.busyMs)).toBe(true);
  });

  it('measures batches of 1,000 (and NDJSON when the service has it) against a raw COPY, every acknowledged row stored', () => {
    const { batch } = results;
    expect(batch.rounds.length).toBeGreaterThan(0);
    for (const round of batch.rounds) {
      expect(positive(round.httpRowsPerSecond)).toBe(true);
      expect(positive(round.copyRowsPerSecond)).toBe(true);
      expect(round.httpAcknowledged).toBeGreaterThan(0);
      expect(round.httpCommitted).toBe(round.httpAcknowledged);
      if (batch.ndjsonRatio) expect(positive(round.ndjsonRowsPerSecond)).toBe(true);
      // CPU is read from /proc: each side's database work and the service's own are seen.
      expect(positive(round.cpuUsPerRow.http.database)).toBe(true);
      expect(positive(round.cpuUsPerRow.http.service ?? 0)).toBe(true);
      expect(positive(round.cpuUsPerRow.copy.database)).toBe(true);
      expect(round.cpuUsPerRow.copy.service).toBeNull();
    }
    expect(batch.waits?.samples).toBeGreaterThan(0);
    expect(batch.profile?.byOwner.length).toBeGreaterThan(0);
  });

  it('loads a history whose rollup agrees with its rows, and times every read both ways', () => {
    const [size] = results.reads.sizes;
    expect(size?.rows).toBe(2000);
    expect(size!.load.rollupRows).toBeGreaterThan(0);
    expect(size!.consistency.mismatches).toEqual([]);
    expect(size!.consistency.ok).toBe(true);
    expect(size!.consistency.service.predictions).toBeGreaterThan(0);
    expect(Object.keys(size!.endpoints).sort()).toEqual(['anomalies_24h', 'daily_30d', 'metrics_24h', 'scrape', 'scrape_uncached', 'summary']);
    for (const endpoint of Object.values(size!.endpoints)) {
      expect(endpoint.mlmon.n).toBeGreaterThan(0);
      expect(endpoint.raw.n).toBeGreaterThan(0);
      expect(positive(endpoint.mlmon.p50)).toBe(true);
      expect(positive(endpoint.mlmon.p99)).toBe(true);
      expect(positive(endpoint.speedupP50)).toBe(true);
    }
  });

  it('samples the service RSS under ingest', () => {
    expect(results.memory.samples.length).toBeGreaterThan(0);
    expect(positive(results.memory.maxMb)).toBe(true);
    expect(results.memory.heap.length).toBeGreaterThan(0);
    expect(positive(results.memory.heap[0]?.heapUsedMb)).toBe(true);
    expect(results.memory.ingested.singles + results.memory.ingested.batchRows).toBeGreaterThan(0);
  });

  it('measures single actuals against the same labelling by SQL, every acknowledged actual applied', () => {
    const { actuals } = results;
    expect(actuals.rounds.length).toBeGreaterThan(0);
    for (const round of actuals.rounds) {
      expect(round.mlmon.ok).toBeGreaterThan(0);
      expect(round.mlmon.non2xx).toBe(0);
      expect(positive(round.sqlPerSecond)).toBe(true);
      expect(positive(round.ratio)).toBe(true);
      expect(round.labelled).toBeGreaterThanOrEqual(round.acknowledged);
    }
    expect(actuals.ackAfterCommit).toBe(true);
    expect(actuals.waits.samples).toBeGreaterThan(0);
  });

  it('renders the report against the goals of issue 6', () => {
    expect(markdown).toContain('| goal (issue 6) | measured | status |');
    expect(markdown).toContain('/api/ml-monitoring/summary');
    expect(markdown).toContain('### Not a goal: single actuals');
    expect(markdown).toMatch(/Machine CPU left idle during the runs .*: no-op \d+ % \(\d+–\d+ %\), mlmon \d+ %/);
    expect(existsSync(buildDir)).toBe(true);
  });
});
