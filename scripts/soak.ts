/**
 * Soak: mixed ingest and reads for a while (default 10 minutes), printing the service's RSS and
 * latency percentiles per interval and the last-third / first-third ratios at the end.
 *
 *   npm run build && node scripts/lib/run.mjs soak [--duration 600] [--sample 30] [--concurrency 4]
 *
 * Against a running service: MLMON_SOAK_URL, MLMON_SOAK_INGEST_TOKEN, MLMON_SOAK_READ_TOKEN.
 * Otherwise it starts `node dist/main.js` itself on loopback with an embedded PostgreSQL in a
 * temporary folder (removed afterwards). --json prints the whole report as JSON at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runSoak } from './lib/soak.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    sample: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return n;
}

interface Target {
  baseUrl: string;
  ingestToken: string;
  readToken: string;
  stop(): Promise<void>;
}

/** `node dist/main.js` with an embedded PostgreSQL in a temporary folder. */
async function startOwnService(): Promise<Target> {
  // the built service: dist/main.js in the first folder above this file that has one
  let main = '';
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'dist', 'main.js'))) {
      main = path.join(dir, 'dist', 'main.js');
      break;
    }
  }
  if (!main) throw new Error('dist/main.js not found: run npm run build first');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mlmon-soak-'));
  await chmod(dataDir, 0o755); // as root, PostgreSQL runs as the "postgres" user and must enter it
  const { freePort } = (await import(pathToFileURL(path.join(path.dirname(main), 'server', 'free-port.js')).href)) as typeof import('../src/server/free-port.js');
  const port = await freePort();
  const ingestToken = randomBytes(20).toString('hex');
  const readToken = randomBytes(20).toString('hex');
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), MLMON_DATA_DIR: dataDir, MLMON_INGEST_TOKEN: ingestToken, MLMON_READ_TOKEN: readToken, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error('the service was not ready within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { baseUrl, ingestToken, readToken, stop };
}

async function main(): Promise<void> {
  const durationS = positive('duration', args.duration);
  const sampleS = positive('sample', args.sample);
  const concurrency = positive('concurrency', args.concurrency);
  const url = process.env.MLMON_SOAK_URL;
  const target: Target = url
    ? { baseUrl: url.replace(/\/$/, ''), ingestToken: process.env.MLMON_SOAK_INGEST_TOKEN ?? '', readToken: process.env.MLMON_SOAK_READ_TOKEN ?? '', stop: async () => {} }
    : await startOwnService();
  const stopOnSignal = () => void target.stop().then(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  try {
    process.stdout.write(`soak: ${durationS} s of mixed ingest + reads, ${concurrency} clients, sample every ${sampleS} s, against ${target.baseUrl}\n`);
    process.stdout.write('     t(s)   rss(MB)  requests  errors   p50(ms)   p95(ms)   p99(ms)  stored\n');
    const report = await runSoak({
      baseUrl: target.baseUrl,
      ingestToken: target.ingestToken,
      readToken: target.readToken,
      durationMs: durationS * 1000,
      sampleMs: sampleS * 1000,
      concurrency,
      onSample: (s) =>
        process.stdout.write(
          [s.t, s.rssMb, s.requests, s.errors, s.p50Ms, s.p95Ms, s.p99Ms, s.predictionsStored].map((v) => String(v).padStart(9)).join(' ') + '\n',
        ),
    });
    process.stdout.write(
      `soak: ${report.totalRequests} requests, ${report.totalErrors} errors, ${report.predictionsAcknowledged} predictions acknowledged; ` +
        `last third / first third: rss ${report.ratios.rss.toFixed(2)}, p50 ${report.ratios.p50.toFixed(2)}, p95 ${report.ratios.p95.toFixed(2)}\n`,
    );
    if (report.totalErrors > 0) process.stdout.write(`soak: errors by kind ${JSON.stringify(report.errorKinds)}\n`);
    if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    await target.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
