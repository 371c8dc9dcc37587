/**
 * The demo generator (node dist/demo/main.js) against the real service over HTTP: a few seconds
 * of traffic at a high rate with a compressed incident, then what the service stored is checked.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startServiceProcess, type RunningService } from '../support/service.js';
import type { DemoSummary } from '../../src/demo/main.js';
import { DEFAULT_MODELS } from '../../src/demo/traffic.js';
import { MAX_BATCH } from '../../src/validate/prediction.js';

const DEMO = fileURLToPath(new URL('../../dist/demo/main.js', import.meta.url));

function runDemo(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DEMO, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let database: TestDatabase;
let service: RunningService;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await startServiceProcess({ databaseUrl: database.url });
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

async function read<T>(route: string): Promise<T> {
  const response = await fetch(`${service.baseUrl}/api/ml-monitoring${route}`, { headers: { authorization: `Bearer ${service.readToken}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

describe('demo traffic generator against the service', () => {
  it('feeds predictions, later actuals, failures and the 25 % flag; the incident version shows anomalies', async () => {
    const started = Date.now();
    const result = await runDemo(
      ['--url', service.baseUrl, '--rate', '60', '--duration', '4s', '--incident-after', '2s', '--incident-duration', '1m', '--actual-lag', '0.2,0.8', '--tick', '250ms', '--seed', '11'],
      { MLMON_INGEST_TOKEN: service.ingestToken },
    );
    expect(result.stderr).toMatch(/incident starts/);
    // 16 ticks: one listener left on the stop signal per tick would pass Node's limit of 10.
    expect(result.stderr).not.toMatch(/MaxListenersExceededWarning/);
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as DemoSummary;
    expect(summary.requestErrors).toBe(0);
    expect(summary.predictions).toBeGreaterThan(150);
    expect(summary.actuals).toBeGreaterThan(summary.predictions * 0.85);
    expect(summary.actuals).toBeLessThan(summary.predictions);

    const overview = await read<{ total_predictions: number; metrics_24h: { count: number; predictions: number }; feature_flags: { ml_enabled: boolean; ml_traffic_percentage: number; ml_failures: number; ml_successes: number } }>('/summary');
    expect(overview.total_predictions).toBe(summary.predictions);
    expect(overview.metrics_24h.count).toBe(summary.actuals);
    expect(overview.feature_flags).toMatchObject({ ml_enabled: true, ml_traffic_percentage: 25, ml_failures: summary.failures });
    expect(overview.feature_flags.ml_successes).toBe(summary.predictions);

    const { model_versions } = await read<{ model_versions: string[] }>('/model-versions');
    expect(model_versions).toEqual(DEFAULT_MODELS.map((model) => model.version).sort());

    const incident = await read<{ mae: number; count: number }>(`/metrics?hours=1&model_version=${summary.incidentVersion}`);
    const anomalies = await read<{ model_version: string }[]>('/anomalies?hours=1&limit=10000');
    expect(anomalies.length).toBeGreaterThan(5);
    const anomalyRate = (version: string, count: number) => anomalies.filter((row) => row.model_version === version).length / count;
    // Half of the run was the incident: the incident version's anomaly rate and MAE stand out; a
    // healthy version rarely errs by more than 5 min.
    expect(incident.mae).toBeGreaterThan(3);
    expect(anomalyRate(summary.incidentVersion, incident.count)).toBeGreaterThan(0.25);
    for (const version of DEFAULT_MODELS.map((model) => model.version).filter((v) => v !== summary.incidentVersion)) {
      const healthy = await read<{ mae: number; count: number }>(`/metrics?hours=1&model_version=${version}`);
      expect(healthy.count).toBeGreaterThan(10);
      expect(healthy.mae).toBeLessThan(3);
      expect(anomalyRate(version, healthy.count)).toBeLessThan(0.15);
    }
    const recent = await read<{ traffic_percentage: number; feature_flag_enabled: boolean; risk_level: string }[]>('/predictions?limit=50');
    expect(recent.every((row) => row.traffic_percentage === 25 && row.feature_flag_enabled)).toBe(true);
  }, 60_000);

  it('reads the token from <data dir>/tokens.json, and stops with a clear error on a wrong token', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'mlmon-demo-'));
    try {
      await writeFile(path.join(directory, 'tokens.json'), JSON.stringify({ ingest_token: service.ingestToken, read_token: service.readToken }));
      const fromFile = await runDemo(['--url', service.baseUrl, '--rate', '10', '--duration', '1s', '--tick', '250ms', '--data-dir', directory, '--quiet'], {});
      expect(fromFile.code).toBe(0);
      expect((JSON.parse(fromFile.stdout) as DemoSummary).predictions).toBeGreaterThan(0);

      const wrong = await runDemo(['--url', service.baseUrl, '--duration', '1s', '--quiet'], { MLMON_INGEST_TOKEN: 'x'.repeat(32) });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/401.*ingest token/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 60_000);

  it('sends a tick and the final actuals over MAX_BATCH items in several requests; Ctrl-C still sends the pending actuals', async () => {
    type Overview = { total_predictions: number; metrics_24h: { count: number } };
    const before = await read<Overview>('/summary');
    // One 30 s tick at 500/s: ~15,000 predictions at once. Their actuals are due after 60 s, so
    // all of them are still pending when Ctrl-C ends the run.
    const demo = spawn(
      process.execPath,
      [DEMO, '--url', service.baseUrl, '--rate', '500', '--duration', '30s', '--tick', '30s', '--actual-lag', '60,90', '--seed', '13', '--quiet'],
      { env: { PATH: process.env.PATH ?? '', MLMON_INGEST_TOKEN: service.ingestToken }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    demo.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    demo.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const closed = new Promise<number | null>((resolve) => demo.once('close', resolve));
    // Ctrl-C once more than one request's worth of the tick is stored, instead of waiting out the 30 s.
    while (demo.exitCode === null && (await read<Overview>('/summary')).total_predictions - before.total_predictions <= MAX_BATCH) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    demo.kill('SIGINT');
    expect({ code: await closed, stderr }).toEqual({ code: 0, stderr: '' });

    const summary = JSON.parse(stdout) as DemoSummary;
    const after = await read<Overview>('/summary');
    expect(summary.seconds).toBeLessThan(30);
    expect(summary.predictions).toBeGreaterThan(MAX_BATCH);
    expect(summary.predictions).toBe(after.total_predictions - before.total_predictions);
    expect(summary.actualsPending).toBeGreaterThan(MAX_BATCH);
    expect(summary.actuals).toBe(summary.actualsPending);
    expect(summary.actuals).toBe(after.metrics_24h.count - before.metrics_24h.count);
  }, 60_000);
});
