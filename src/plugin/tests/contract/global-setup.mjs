// Plain ESM, loaded by jest outside its transform: it imports the built service's embedded
// PostgreSQL helper (ESM) and starts the real service as a child process for the contract suite.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PLUGIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The repository root, whose `npm run build` produces the service under dist/. */
const SERVICE_DIR = path.resolve(process.env.MLMON_SERVICE_DIR ?? path.join(PLUGIN_DIR, '../..'));
const READY_TIMEOUT_MS = 60_000;

function readyzStatus(baseUrl) {
  return new Promise((resolve) => {
    const req = get(`${baseUrl}/readyz`, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

async function tail(file) {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-40).join('\n');
}

export default async function globalSetup() {
  const main = path.join(SERVICE_DIR, 'dist/main.js');
  const embedded = path.join(SERVICE_DIR, 'dist/db/embedded.js');
  const freePortModule = path.join(SERVICE_DIR, 'dist/server/free-port.js');
  if (![main, embedded, freePortModule].every((file) => existsSync(file))) {
    throw new Error(
      `The plugin's contract test needs the built mlmon service in ${SERVICE_DIR}/dist: run "npm ci && npm run build" ` +
        'at the repository root first (or "npm run test:unit" here for the unit tests only).',
    );
  }

  const workDir = await mkdtemp(path.join(tmpdir(), 'mlmon-plugin-contract-'));
  await chmod(workDir, 0o755); // as root, PostgreSQL runs as the "postgres" user and must enter it
  const { startEmbeddedPostgres } = await import(pathToFileURL(embedded).href);
  const database = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres') });

  const { freePort } = await import(pathToFileURL(freePortModule).href);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const tokens = { ingest: randomBytes(24).toString('hex'), read: randomBytes(24).toString('hex') };
  const logFile = path.join(workDir, 'service.log');
  const log = createWriteStream(logFile);
  const service = spawn(process.execPath, [main], {
    cwd: SERVICE_DIR,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      MLMON_DATA_DIR: path.join(workDir, 'service'),
      MLMON_INGEST_TOKEN: tokens.ingest,
      MLMON_READ_TOKEN: tokens.read,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.stdout.pipe(log);
  service.stderr.pipe(log);
  const exited = new Promise((resolve) => service.once('exit', (code, signal) => resolve({ code, signal })));
  globalThis.__mlmonContract = { service, exited, database, workDir };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exit;
  exited.then((result) => (exit = result));
  while ((await readyzStatus(baseUrl)) !== 200) {
    if (exit || Date.now() > deadline) {
      const reason = exit ? `exited (${JSON.stringify(exit)})` : `was not ready within ${READY_TIMEOUT_MS / 1000} s`;
      const output = await tail(logFile);
      const { default: teardown } = await import('./global-teardown.mjs');
      await teardown();
      throw new Error(`mlmon service (${main}) ${reason}. Its output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  // Read by the contract suite in the test workers, which inherit this environment.
  process.env.MLMON_CONTRACT_URL = baseUrl;
  process.env.MLMON_CONTRACT_INGEST_TOKEN = tokens.ingest;
  process.env.MLMON_CONTRACT_READ_TOKEN = tokens.read;
}
