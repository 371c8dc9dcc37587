import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/server/free-port.js';

export { freePort };

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

/** A fresh folder for an embedded cluster: as root, PostgreSQL runs as the "postgres" user and must enter it. */
export async function postgresDataDir(prefix: string): Promise<string> {
  const dataDir = await mkdtemp(path.join(tmpdir(), prefix));
  await chmod(dataDir, 0o755);
  return dataDir;
}

export interface RunningService {
  baseUrl: string;
  ingestToken: string;
  readToken: string;
  process: ChildProcess;
  /** Everything the process wrote, for assertions on logs. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

async function waitUntilReady(baseUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service was not ready within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

export interface SpawnedService {
  process: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
  /** The exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

/**
 * Spawns the built service (`node dist/main.js`, as `npm start` runs it) with `env` over a
 * loopback default and nothing inherited, for tests that watch it start, fail or stop.
 */
export function spawnService(env: Record<string, string>): SpawnedService {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => log, exited };
}

/**
 * Runs the built service as a real process on loopback, as `npm start` would, against the given
 * database (or its embedded default when databaseUrl is omitted), and waits until it is ready.
 */
export async function startServiceProcess(options: { databaseUrl?: string; env?: Record<string, string> } = {}): Promise<RunningService> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mlmon-service-'));
  const ingestToken = randomBytes(20).toString('hex');
  const readToken = randomBytes(20).toString('hex');
  const { process: child, output, exited } = spawnService({
    PORT: String(port),
    MLMON_DATA_DIR: dataDir,
    MLMON_INGEST_TOKEN: ingestToken,
    MLMON_READ_TOKEN: readToken,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 20_000)))]);
    clearTimeout(timer);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
    return code === 'timeout' ? null : code;
  };
  try {
    await waitUntilReady(baseUrl, child, output);
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return { baseUrl, ingestToken, readToken, process: child, output, stop };
}
