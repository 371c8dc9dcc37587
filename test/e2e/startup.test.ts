/**
 * Start-up as an operator meets it (`node dist/main.js`, as `npm start` runs it): a setting the
 * service cannot use stops it at once with one line naming the variable, and a signal during
 * start-up leaves no embedded PostgreSQL behind to block the next start.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, postgresDataDir, spawnService, startServiceProcess, type SpawnedService } from '../support/service.js';

const TOKENS = { MLMON_INGEST_TOKEN: 'i'.repeat(32), MLMON_READ_TOKEN: 'r'.repeat(32) };

/** The exit code and output of a start that must fail; a start still running after `ms` is a hang (code 'hung'). */
async function failedStart(env: Record<string, string>, ms = 20_000): Promise<{ code: number | null | 'hung'; output: string }> {
  const service = spawnService({ PORT: String(await freePort()), ...TOKENS, ...env });
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([service.exited, new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)))]);
  clearTimeout(timer);
  if (code === 'hung') {
    service.process.kill('SIGKILL');
    await service.exited;
  }
  return { code, output: service.output() };
}

/** One line, naming the variable; no stack trace. */
function expectOneLineNaming(output: string, variable: string): void {
  expect(output.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^mlmon: failed to start: .*${variable}`))]);
}

const listening = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
const closing = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** A migrated test database, for the starts that need one. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('a database the service cannot use', () => {
  it('refused connection, wrong password: DATABASE_URL named, password masked, exit 1', async () => {
    const refused = await failedStart({ DATABASE_URL: 'postgres://mlmon:hunter2hunter2@127.0.0.1:1/mlmon' });
    expect(refused.code).toBe(1);
    expectOneLineNaming(refused.output, 'DATABASE_URL=postgres://mlmon:\\*\\*\\*@127.0.0.1:1/mlmon: .*ECONNREFUSED');
    expect(refused.output).not.toContain('hunter2');

    const url = new URL(db.url);
    url.password = 'not-the-password';
    const wrongPassword = await failedStart({ DATABASE_URL: url.toString() });
    expect(wrongPassword.code).toBe(1);
    expectOneLineNaming(wrongPassword.output, 'DATABASE_URL=.*password authentication failed');
    expect(wrongPassword.output).not.toContain('not-the-password');
  });

  it('migrations go through MLMON_MIGRATION_DATABASE_URL when it is set (a direct connection beside a pooler)', async () => {
    const refused = await failedStart({ DATABASE_URL: db.url, MLMON_MIGRATION_DATABASE_URL: 'postgres://mlmon:hunter2hunter2@127.0.0.1:1/mlmon' });
    expect(refused.code).toBe(1);
    expectOneLineNaming(refused.output, 'MLMON_MIGRATION_DATABASE_URL=postgres://mlmon:\\*\\*\\*@127.0.0.1:1/mlmon: .*ECONNREFUSED');
    expect(refused.output).not.toContain('hunter2');
  });

  it('with DATABASE_URL, a data directory where no token can be generated: named before the database is touched', async () => {
    const notAFolder = path.join(await postgresDataDir('mlmon-tokens-'), 'a-file');
    await writeFile(notAFolder, '');
    try {
      const result = await failedStart({ DATABASE_URL: db.url, MLMON_DATA_DIR: notAFolder, MLMON_INGEST_TOKEN: '', MLMON_READ_TOKEN: '' });
      expect(result.code).toBe(1);
      expectOneLineNaming(result.output, `MLMON_DATA_DIR=${notAFolder} must be a folder the service can create and write`);
    } finally {
      await rm(path.dirname(notAFolder), { recursive: true, force: true });
    }
  });

  it('a server that accepts and hangs up (a proxy without a backend): a clear failure, not a silent hang', async () => {
    const hangsUp = createServer((socket) => {
      socket.on('data', () => socket.end());
      socket.on('error', () => {});
    });
    const port = await listening(hangsUp);
    try {
      const started = Date.now();
      const result = await failedStart({ DATABASE_URL: `postgres://mlmon:secret@127.0.0.1:${port}/mlmon` }, 25_000);
      expect({ code: result.code, seconds: Math.round((Date.now() - started) / 1000) <= 15 }).toEqual({ code: 1, seconds: true });
      expectOneLineNaming(result.output, 'DATABASE_URL=.*no answer from PostgreSQL');
    } finally {
      await closing(hangsUp);
    }
  }, 40_000);

  it('a HOST that does not resolve: named before the embedded database starts, exit 1', async () => {
    const result = await failedStart({ HOST: 'no-such-host.invalid', MLMON_DATA_DIR: path.join(tmpdir(), `mlmon-never-created-${process.pid}`) });
    expect(result.code).toBe(1);
    // one line: no "starting embedded PostgreSQL" before it
    expectOneLineNaming(result.output, 'cannot listen on HOST=no-such-host.invalid PORT=\\d+: .*ENOTFOUND');
  });

  it('a port already in use: HOST and PORT named, exit 1', async () => {
    const occupant = createServer();
    const port = await listening(occupant);
    try {
      const result = await failedStart({ DATABASE_URL: db.url, PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.output).toMatch(new RegExp(`^mlmon: failed to start: cannot listen on HOST=127.0.0.1 PORT=${port}: .*EADDRINUSE`, 'm'));
      expect(result.output).not.toMatch(/^\s+at /m);
    } finally {
      await closing(occupant);
    }
  });
});

describe('the embedded PostgreSQL and its data directory', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await postgresDataDir('mlmon-startup-');
  });
  afterAll(async () => {
    // A cluster this suite left running (a failed run) would hold the folder: stop it first.
    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    if (existsSync(pidFile)) process.kill(Number((await readFile(pidFile, 'utf8')).split('\n', 1)[0]), 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await rm(dataDir, { recursive: true, force: true });
  });

  const postmasterGone = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (existsSync(path.join(dataDir, 'pg', 'postmaster.pid')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return !existsSync(path.join(dataDir, 'pg', 'postmaster.pid'));
  };

  it('MLMON_DATA_DIR that is a file: named, exit 1', async () => {
    const file = path.join(dataDir, 'a-file');
    await writeFile(file, '');
    const result = await failedStart({ MLMON_DATA_DIR: file, MLMON_INGEST_TOKEN: '', MLMON_READ_TOKEN: '' });
    expect(result.code).toBe(1);
    expectOneLineNaming(result.output.replace(/^mlmon: no DATABASE_URL.*\n/, ''), `MLMON_DATA_DIR=${file}`);
  });

  it('SIGTERM during start-up stops the cluster (exit 0); the next start works; a second start beside it fails naming the lock', async () => {
    const starting: SpawnedService = spawnService({ PORT: String(await freePort()), MLMON_DATA_DIR: dataDir, ...TOKENS });
    while (!/applying migration/.test(starting.output()) && starting.process.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    starting.process.kill('SIGTERM');
    expect(await starting.exited).toBe(0);
    expect(await postmasterGone(10_000)).toBe(true);

    const running = await startServiceProcess({ env: { MLMON_DATA_DIR: dataDir } });
    try {
      const beside = await failedStart({ MLMON_DATA_DIR: dataDir });
      expect(beside.code).toBe(1);
      expect(beside.output).toMatch(/embedded PostgreSQL did not start .*lock file "postmaster.pid" already exists/);
      expect((await fetch(`${running.baseUrl}/readyz`)).status).toBe(200);
    } finally {
      expect(await running.stop('SIGTERM')).toBe(0);
    }
    expect(await postmasterGone(0)).toBe(true);
  }, 90_000);
});

describe('npm start', () => {
  // A supervisor signals the process it started: npm. npm passes the signal to its script's shell,
  // which, without exec, died and left the service running, orphaned.
  it('SIGTERM to npm stops the service (the script execs node)', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: db.url, ...TOKENS },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    const baseUrl = `http://127.0.0.1:${port}`;
    const ready = async () => fetch(`${baseUrl}/readyz`).then((r) => r.ok, () => false);
    for (const deadline = Date.now() + 30_000; !(await ready()); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > deadline) throw new Error('npm start: not ready within 30 s');
    }
    npm.kill('SIGTERM');
    await exited;
    const stillServing = async () => fetch(`${baseUrl}/healthz`).then(() => true, () => false);
    for (const deadline = Date.now() + 10_000; (await stillServing()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    expect(await stillServing()).toBe(false);
  }, 60_000);
});
