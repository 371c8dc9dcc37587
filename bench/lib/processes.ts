/**
 * The servers under test run as their own processes (so the load generator does not share their
 * event loop): mlmon (`node dist/main.js`), the no-op Fastify baseline, the old Flask service
 * under gunicorn. Every process started here is stopped by its pid; nothing else is touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distFile, freePort } from './service.js';

export { freePort };

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface Server {
  name: string;
  baseUrl: string;
  pid: number;
  child: ChildProcess;
  /** The last few KB the process wrote (the rest is in its log file). */
  tail(): string;
  stop(): Promise<void>;
}

const running = new Set<Server>();

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Path answering 200 once the server is ready. */
  readyPath: string;
  logFile: string;
  cwd?: string;
}

export async function startServer(options: StartOptions): Promise<Server> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(options.command, options.args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${options.port}`;
  let stopped = false;
  const server: Server = {
    name: options.name,
    baseUrl,
    pid: child.pid ?? -1,
    child,
    tail: () => tail,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
      await new Promise<void>((resolve) => log.end(() => resolve()));
    },
  };
  running.add(server);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await server.stop();
      throw new Error(`${options.name} exited before it was ready:\n${tail}`);
    }
    try {
      const response = await fetch(baseUrl + options.readyPath);
      await response.arrayBuffer();
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${options.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops every server this module started (on errors and signals). */
export async function stopAllServers(): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()));
}

export interface MlmonProcessOptions {
  databaseUrl: string;
  dataDir: string;
  ingestToken: string;
  readToken: string;
  logFile: string;
  /** Default 'info', as `npm start` runs it. */
  logLevel?: string;
  /** 0: every scrape reads the database; absent: the service's default (refreshed in the background). */
  metricsCacheSeconds?: number;
  nodeArgs?: string[];
  name?: string;
}

/** `node dist/main.js` on loopback, configured from the environment as in production. */
export async function startMlmon(options: MlmonProcessOptions): Promise<Server> {
  const port = await freePort();
  return startServer({
    name: options.name ?? 'mlmon',
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), distFile('main.js')],
    env: {
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      MLMON_DATA_DIR: options.dataDir,
      MLMON_INGEST_TOKEN: options.ingestToken,
      MLMON_READ_TOKEN: options.readToken,
      ...(options.metricsCacheSeconds === undefined ? {} : { MLMON_METRICS_CACHE_SECONDS: String(options.metricsCacheSeconds) }),
      LOG_LEVEL: options.logLevel ?? 'info',
    },
    port,
    readyPath: '/readyz',
    logFile: options.logFile,
  });
}

/** The no-op baseline (bench/noop-server.ts, transpiled next to this module's folder). */
export async function startNoop(logFile: string): Promise<Server> {
  const port = await freePort();
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'noop-server.js');
  return startServer({
    name: 'noop',
    command: process.execPath,
    args: [script],
    env: { PORT: String(port), ...(process.env.MLMON_BENCH_SERVICE_ROOT ? { MLMON_BENCH_SERVICE_ROOT: process.env.MLMON_BENCH_SERVICE_ROOT } : {}) },
    port,
    readyPath: '/healthz',
    logFile,
  });
}

/** Resident set size of a process in bytes (Linux /proc), or null when it is gone. */
export async function rssOf(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
