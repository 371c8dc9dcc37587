/**
 * mlmon's benchmark (issue 6): every figure a ratio measured side by side in one run.
 *
 *   npm run build && node bench/build.mjs && node bench/.build/main.js [flags]
 *
 * Flags:
 *   --phases ingest,batch,reads,flask,memory,actuals   which parts to run (default: all)
 *   --huge                 add 10,000,000 predictions to the read sizes (loading takes minutes)
 *   --sizes 10000,1000000  read sizes (overrides the defaults)
 *   --rounds N             rounds of each side-by-side comparison (default 5)
 *   --smoke                a few seconds per part, tiny sizes (what test/bench runs)
 *   --database-url URL     superuser URL of an existing PostgreSQL (default: start the embedded one)
 *   --ndjson-path ROUTE    the streaming NDJSON ingest route (default /api/ml-monitoring/predictions/bulk;
 *                          measured when the service under test has it)
 *   --memory-seconds N     how long the RSS part sustains ingest (default 60)
 *   --out DIR              where to write bench-<time>.json and .md (default bench/results)
 * Environment: MLMON_BENCH_SERVICE_ROOT=<dir> measures the dist/ of another checkout (e.g. a
 * snapshot of a commit), MLMON_BENCH_COMMIT names its commit when it is not a git work tree.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { openCluster, type Cluster } from './lib/cluster.js';
import { PHASES, type BenchOptions, type Context, type PhaseName } from './lib/context.js';
import { environment } from './lib/environment.js';
import { stopAllServers } from './lib/processes.js';
import { REPO_ROOT, serviceModules } from './lib/service.js';
import { actuals } from './phases/actuals.js';
import { batchIngest } from './phases/batch.js';
import { flask } from './phases/flask.js';
import { singleIngest } from './phases/ingest.js';
import { memory } from './phases/memory.js';
import { reads } from './phases/reads.js';
import { postgresInfo, renderMarkdown, type BenchResults } from './report.js';

interface Cli {
  options: BenchOptions;
  databaseUrl?: string;
  outDir: string;
}

function parseArgs(argv: string[]): Cli {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(arg.slice(2), next);
      i++;
    } else flags.set(arg.slice(2), true);
  }
  const known = ['phases', 'huge', 'sizes', 'rounds', 'smoke', 'database-url', 'ndjson-path', 'out', 'memory-seconds'];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`unknown flag --${key} (known: ${known.map((k) => '--' + k).join(' ')})`);
  const text = (key: string) => {
    const value = flags.get(key);
    return typeof value === 'string' ? value : undefined;
  };
  const smoke = flags.has('smoke');
  const phases = new Set<PhaseName>(
    text('phases')
      ? text('phases')!.split(',').map((p) => {
          if (!PHASES.includes(p as PhaseName)) throw new Error(`unknown phase ${p} (phases: ${PHASES.join(',')})`);
          return p as PhaseName;
        })
      : smoke
        ? PHASES.filter((p) => p !== 'flask')
        : PHASES,
  );
  let sizes = smoke ? [2_000] : [10_000, 1_000_000];
  if (flags.has('huge')) sizes.push(10_000_000);
  if (text('sizes')) sizes = text('sizes')!.split(',').map((s) => Number(s));
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 100_000_000)) throw new Error('--sizes: integers from 1 to 100,000,000');
  // Growth is the largest size's latency over the smallest's, so they are read in ascending order.
  sizes.sort((a, b) => a - b);
  const rounds = Number(text('rounds') ?? (smoke ? 1 : 5));
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error('--rounds: an integer from 1 to 20');
  const seconds = Number(text('memory-seconds') ?? (smoke ? 2 : 60));
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) throw new Error('--memory-seconds: from 1 to 3600');
  const options: BenchOptions = {
    smoke,
    phases,
    rounds,
    ingest: smoke
      ? { connections: 8, seconds: 1, warmupSeconds: 0.5, profileSeconds: 1 }
      : { connections: 64, seconds: 6, warmupSeconds: 2, profileSeconds: 8 },
    batch: { batchesPerRound: smoke ? 3 : 100, batchSize: 1000, connections: smoke ? 2 : 4, ndjsonPath: text('ndjson-path') ?? '/api/ml-monitoring/predictions/bulk' },
    reads: {
      sizes,
      spanDays: 30,
      mlmon: smoke ? { maxSamples: 10, maxSeconds: 1, minSamples: 3 } : { maxSamples: 1000, maxSeconds: 5, minSamples: 100 },
      raw: smoke ? { maxSamples: 5, maxSeconds: 1, minSamples: 2 } : { maxSamples: 100, maxSeconds: 8, minSamples: 3 },
    },
    flask: {
      rows: smoke ? 2_000 : 200_000,
      seed: path.resolve(REPO_ROOT, '..', 'shared', 'peers', 'seed-flask'),
      mlmon: smoke ? { maxSamples: 10, maxSeconds: 1, minSamples: 3 } : { maxSamples: 500, maxSeconds: 4, minSamples: 50 },
      flask: smoke ? { maxSamples: 5, maxSeconds: 2, minSamples: 2 } : { maxSamples: 50, maxSeconds: 15, minSamples: 5 },
    },
    memory: { seconds, connections: smoke ? 8 : 64 },
    // Enough stored predictions that every actual of the phase is a first one.
    actuals: smoke ? { connections: 4, seconds: 1, predictions: 50_000 } : { connections: 16, seconds: 5, predictions: 600_000 },
  };
  return { options, databaseUrl: text('database-url'), outDir: path.resolve(text('out') ?? path.join(REPO_ROOT, 'bench', 'results')) };
}

async function main(): Promise<number> {
  const started = Date.now();
  const cli = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(line + '\n');
  const command = `node bench/.build/main.js ${process.argv.slice(2).join(' ')}`.trim();
  const env = await environment();
  const modules = await serviceModules();
  const scratch = await mkdtemp(path.join(tmpdir(), 'mlmon-bench-'));
  let cluster: Cluster | undefined;
  const cleanup = async () => {
    await stopAllServers();
    await cluster?.stop().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`bench: ${signal}: stopping what it started`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    cluster = await openCluster(modules, { adminUrl: cli.databaseUrl, log });
    const ctx: Context = {
      options: cli.options,
      cluster,
      scratch,
      tokens: { ingest: randomBytes(20).toString('hex'), read: randomBytes(20).toString('hex') },
      log,
    };
    const results: BenchResults = {
      command,
      environment: env,
      postgres: postgresInfo(cluster),
      options: { ...cli.options, phases: [...cli.options.phases] },
      seconds: 0,
      loadAverageAtEnd: [],
      errors: [],
    };
    const phase = async <T>(name: PhaseName, title: string, fn: (c: Context) => Promise<T>): Promise<T | undefined> => {
      if (!cli.options.phases.has(name)) return undefined;
      log(`== ${title}`);
      const t = Date.now();
      try {
        return await fn(ctx);
      } catch (error) {
        log(`  FAILED: ${error instanceof Error ? error.stack : String(error)}`);
        results.errors.push({ phase: name, message: error instanceof Error ? error.message : String(error) });
        await stopAllServers();
        return undefined;
      } finally {
        log(`  (${Math.round((Date.now() - t) / 1000)} s)`);
      }
    };
    results.ingest = await phase('ingest', '1. single-prediction ingest vs no-op route', singleIngest);
    results.batch = await phase('batch', '2. batch ingest vs raw COPY', batchIngest);
    results.reads = await phase('reads', '3. reads at growing sizes vs SQL over raw rows', reads);
    results.flask = await phase('flask', '4. old Flask design vs mlmon', flask);
    results.memory = await phase('memory', '5. RSS under sustained ingest', memory);
    results.actuals = await phase('actuals', 'not a goal: single actuals vs the same labelling by SQL', actuals);
    results.seconds = (Date.now() - started) / 1000;
    results.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);

    await mkdir(cli.outDir, { recursive: true });
    const stamp = env.date.replace(/[:.]/g, '-');
    const markdown = renderMarkdown(results);
    await writeFile(path.join(cli.outDir, `bench-${stamp}.json`), JSON.stringify(results, null, 2) + '\n');
    await writeFile(path.join(cli.outDir, `bench-${stamp}.md`), markdown + '\n');
    process.stdout.write(markdown + '\n');
    log(`results: ${path.join(cli.outDir, `bench-${stamp}.json`)} and .md`);
    return results.errors.length === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    void stopAllServers().finally(() => process.exit(2));
  },
);
