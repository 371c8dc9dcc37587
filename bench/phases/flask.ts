/**
 * Goal 4: the old design side by side. The reconstructed Flask + SQLAlchemy service
 * (../shared/peers/seed-flask/app.py) under Debian's gunicorn (2 workers, as its docstring runs
 * it) and mlmon read the same database holding the same 200k predictions (the seed's table is a
 * copy of ml_prediction). Both answer /summary and /metrics?hours=24 one request at a time, in alternating slices.
 * Skipped, with the reason, where Debian's python3-flask, python3-flask-sqlalchemy,
 * python3-psycopg2 or gunicorn are missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { authHeader, mlmonOn, type Context } from '../lib/context.js';
import { copyToSeedTable, loadDataset } from '../lib/dataset.js';
import { getter, sampleSideBySide } from '../lib/load.js';
import { freePort, startServer, type Server } from '../lib/processes.js';
import type { LatencySummary } from '../lib/stats.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const GUNICORN = '/usr/bin/gunicorn';
const ENDPOINTS = { summary: '/api/ml-monitoring/summary', metrics_24h: '/api/ml-monitoring/metrics?hours=24' } as const;
type Endpoint = keyof typeof ENDPOINTS;

export interface FlaskResult {
  skipped: string | null;
  rows: number;
  versions: Record<string, string>;
  endpoints: Partial<Record<Endpoint, { mlmon: LatencySummary; flask: LatencySummary; ratioP50: number; ratioP99: number }>>;
  /** Labelled predictions in the last 24 h as each service reports them (same data: should agree). */
  labelled24h: { mlmon: number | null; flask: number | null };
}

async function debianVersions(): Promise<Record<string, string>> {
  try {
    const { stdout } = await run('dpkg-query', ['-W', '-f', '${Package} ${Version}\n', 'python3', 'python3-flask', 'python3-flask-sqlalchemy', 'python3-sqlalchemy', 'python3-psycopg2', 'gunicorn'], { timeout: 10_000 });
    return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  } catch (error) {
    return { error: String((error as Error).message).split('\n')[0]! };
  }
}

async function missing(seed: string): Promise<string | null> {
  if (!existsSync(path.join(seed, 'app.py'))) return `${seed}/app.py not found`;
  if (!existsSync(PYTHON) || !existsSync(GUNICORN)) return `${PYTHON} or ${GUNICORN} missing (apt-get install python3-flask python3-flask-sqlalchemy python3-psycopg2 gunicorn)`;
  try {
    await run(PYTHON, ['-c', 'import flask, flask_sqlalchemy, psycopg2'], { timeout: 30_000 });
    return null;
  } catch (error) {
    return `Debian's Flask stack is not importable (${String((error as Error).message).split('\n').slice(-2).join(' ')}); apt-get install python3-flask python3-flask-sqlalchemy python3-psycopg2 gunicorn`;
  }
}

export async function flask(ctx: Context): Promise<FlaskResult> {
  const { rows, seed } = ctx.options.flask;
  const versions = await debianVersions();
  const reason = await missing(seed);
  if (reason) {
    ctx.log(`  skipped: ${reason}`);
    return { skipped: reason, rows, versions, endpoints: {}, labelled24h: { mlmon: null, flask: null } };
  }
  const db = await ctx.cluster.createDatabase('flask');
  const servers: Server[] = [];
  try {
    const env = { DATABASE_URL: db.url.replace(/^postgres:/, 'postgresql:'), PYTHONDONTWRITEBYTECODE: '1', PATH: '/usr/bin:/bin' };
    // Its tables are created by its own model (db.create_all() at import), once, before the workers start.
    await run(PYTHON, ['-c', 'import app'], { cwd: seed, env, timeout: 60_000 });
    const load = await loadDataset(db.sql, { rows, spanDays: ctx.options.reads.spanDays, log: ctx.log });
    await copyToSeedTable(db.sql);
    ctx.log(`  loaded ${rows.toLocaleString('en')} predictions into both services' tables in ${load.seconds.total.toFixed(1)} s`);

    const port = await freePort();
    const gunicorn = await startServer({
      name: 'seed-flask',
      command: GUNICORN,
      args: ['-w', '2', '-b', `127.0.0.1:${port}`, '--timeout', '120', '--chdir', seed, 'app:app'],
      env,
      port,
      readyPath: '/api/ml-monitoring/predictions?limit=1',
      logFile: path.join(ctx.scratch, 'seed-flask.log'),
    });
    servers.push(gunicorn);
    const mlmon = await mlmonOn(ctx, db.url);
    servers.push(mlmon);

    const mlmonClient = getter(mlmon.baseUrl, authHeader(ctx.tokens.read));
    const flaskClient = getter(gunicorn.baseUrl);
    const result: FlaskResult = { skipped: null, rows, versions, endpoints: {}, labelled24h: { mlmon: null, flask: null } };
    try {
      for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
        const p = ENDPOINTS[endpoint];
        for (let i = 0; i < 3; i++) {
          await mlmonClient.get(p);
          await flaskClient.get(p);
        }
        const [m, f] = await sampleSideBySide(() => mlmonClient.get(p), ctx.options.flask.mlmon, () => flaskClient.get(p), ctx.options.flask.flask);
        result.endpoints[endpoint] = { mlmon: m, flask: f, ratioP50: f.p50 / m.p50, ratioP99: f.p99 / m.p99 };
        ctx.log(`  ${endpoint}: Flask p50 ${f.p50.toFixed(1)} ms (n=${f.n}), mlmon p50 ${m.p50.toFixed(2)} ms (n=${m.n}): x${(f.p50 / m.p50).toFixed(0)}`);
      }
      result.labelled24h = {
        mlmon: (JSON.parse(await mlmonClient.get(ENDPOINTS.metrics_24h)) as { count: number }).count,
        flask: (JSON.parse(await flaskClient.get(ENDPOINTS.metrics_24h)) as { count: number }).count,
      };
    } finally {
      mlmonClient.close();
      flaskClient.close();
    }
    return result;
  } finally {
    for (const server of servers) await server.stop();
    await ctx.cluster.dropDatabase(db);
  }
}
