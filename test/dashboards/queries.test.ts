/**
 * Query test: the service (real process, real PostgreSQL) is fed known data over HTTP, a real
 * Prometheus scrapes it every second, and then every Prometheus panel query of every generated
 * dashboard (Grafana variables substituted, `$model_version` as a fed version and as `all`) must
 * return data, and every stat panel must show the value computed here from the data fed.
 *
 * Instant queries are evaluated at the timestamp of the last scrape, so `increase()` has nothing
 * to extrapolate at the end of its range; the counters the service creates at zero (ml_requests_total)
 * then give exact ratios.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDashboards, renderDashboard } from '../../src/expose/dashboards/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, startServiceProcess, type RunningService } from '../support/service.js';
import { describeWithBinaries, locateBinaries } from '../alerting/support/binaries.js';
import { startDaemon, stopAll, type Daemon } from '../alerting/support/processes.js';
import { prometheusConfigFor } from '../alerting/support/stack-config.js';

type Json = any;

const lookup = await locateBinaries();
// Only Prometheus is needed here.
const prometheusOnly = { binaries: lookup.binaries, missing: lookup.missing.filter((name) => name === 'prometheus') };

const FED_VERSION = 'va';
const OTHER_VERSION = 'vb';
const SUBSTITUTIONS: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '1h', __range_s: '3600' };

interface Row {
  booking_id: number;
  model_version: string;
  predicted: number;
  /** undefined: no actual yet. */
  actual?: number;
  latencyMs: number;
}

/** Known data: errors chosen away from the 3 min (accuracy) and 5 min (anomaly) edges. */
function rows(phase: 1 | 2): Row[] {
  const errors = [0.4, -1.3, 2.2, -3.6, 4.4, -5.8, 0.9, -2.7, 6.5, 1.8, -0.6, 3.3];
  const out: Row[] = [];
  const count = phase === 1 ? 10 : 14;
  for (let index = 0; index < count; index += 1) {
    const version = index % 3 === 2 ? OTHER_VERSION : FED_VERSION;
    const actual = 4 + ((index * 7 + phase * 3) % 13) * 0.9;
    const error = errors[(index + phase * 5) % errors.length]!;
    out.push({
      booking_id: phase * 1000 + index,
      model_version: version,
      predicted: Math.round((actual + error) * 100) / 100,
      actual: index % 5 === 4 ? undefined : Math.round(actual * 100) / 100,
      latencyMs: 60 + ((index * 37 + phase * 11) % 90),
    });
  }
  return out;
}

interface Expected {
  predictions: number;
  labeled: number;
  maeSeconds: number;
  accuracy: number;
  anomalies: number;
  r2: number;
  latencySeconds: number;
}

/** The service's definitions (docs/api.md), computed independently from the rows fed. */
function expectedFor(all: Row[], version: string): Expected {
  const selected = version === 'all' ? all : all.filter((row) => row.model_version === version);
  const labeled = selected.filter((row) => row.actual !== undefined);
  const errors = labeled.map((row) => row.predicted - row.actual!);
  const meanActual = labeled.reduce((sum, row) => sum + row.actual!, 0) / labeled.length;
  const ssTot = labeled.reduce((sum, row) => sum + (row.actual! - meanActual) ** 2, 0);
  const ssRes = errors.reduce((sum, error) => sum + error ** 2, 0);
  return {
    predictions: selected.length,
    labeled: labeled.length,
    maeSeconds: (errors.reduce((sum, error) => sum + Math.abs(error), 0) / errors.length) * 60,
    accuracy: errors.filter((error) => Math.abs(error) < 3).length / errors.length,
    anomalies: errors.filter((error) => Math.abs(error) > 5).length,
    r2: 1 - ssRes / ssTot,
    latencySeconds: selected.reduce((sum, row) => sum + row.latencyMs, 0) / selected.length / 1000,
  };
}

const dashboards: Json[] = buildDashboards().map((generated) => JSON.parse(renderDashboard(generated.dashboard)));
const panelsOf = (dashboard: Json): Json[] => (dashboard.panels ?? []).flatMap((panel: Json) => (panel.type === 'row' ? panel.panels ?? [] : [panel]));

interface PanelQuery {
  dashboard: string;
  panel: string;
  type: string;
  refId: string;
  expr: string;
  instant: boolean;
}

const panelQueries: PanelQuery[] = dashboards.flatMap((dashboard) =>
  panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((target: Json) => (target.datasource ?? panel.datasource)?.type === 'prometheus')
      .map((target: Json) => ({
        dashboard: dashboard.uid as string,
        panel: panel.title as string,
        type: panel.type as string,
        refId: target.refId as string,
        expr: target.expr as string,
        instant: panel.type === 'stat' || target.instant === true,
      })),
  ),
);

function substitute(expr: string, modelVersion: string): string {
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)/g, (all, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = name === 'model_version' ? modelVersion : SUBSTITUTIONS[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${all} in ${expr}`);
    return value;
  });
}

describeWithBinaries('dashboard queries against a real Prometheus scraping the service', prometheusOnly, (binaries) => {
  let database: TestDatabase;
  let service: RunningService;
  let prometheus: Daemon | undefined;
  let prometheusUrl: string;
  let workDirectory: string;
  const fed: Row[] = [];
  let failures = 0;
  let rejectionsAfterFirst = 0;
  let testStart = 0;
  let evaluationTime = 0;

  async function api(method: string, route: string, body: unknown): Promise<Response> {
    return fetch(`${service.baseUrl}/api/ml-monitoring${route}`, {
      method,
      headers: { authorization: `Bearer ${service.ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function promQuery(query: string, time?: number): Promise<Json[]> {
    const params = new URLSearchParams({ query, ...(time ? { time: String(time) } : {}) });
    const response = await fetch(`${prometheusUrl}/api/v1/query?${params}`);
    const body = (await response.json()) as Json;
    if (body.status !== 'success') throw new Error(`${query}: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`timed out waiting for ${what}\n${prometheus?.output().slice(-2000) ?? ''}`);
  }

  const scalarAt = async (query: string, time?: number): Promise<number | undefined> => {
    const result = await promQuery(query, time);
    return result.length === 1 ? Number(result[0].value[1]) : undefined;
  };

  async function feed(phase: 1 | 2, failureCount: number, rejections: number): Promise<void> {
    const batch = rows(phase);
    const response = await api(
      'POST',
      '/predictions',
      batch.map((row) => ({
        booking_id: row.booking_id,
        predicted_delay_minutes: row.predicted,
        confidence: 0.8,
        risk_level: 'medium',
        model_version: row.model_version,
        prediction_time_ms: row.latencyMs,
        request_id: `queries-${row.booking_id}`,
        feature_flag_enabled: true,
        traffic_percentage: 25,
      })),
    );
    expect(response.status).toBe(201);
    const actuals = batch.filter((row) => row.actual !== undefined).map((row) => ({ booking_id: row.booking_id, actual_delay_minutes: row.actual }));
    expect((await api('POST', '/actuals', actuals)).status).toBe(200);
    expect((await api('POST', '/prediction-failures', { count: failureCount, model_version: FED_VERSION, reason: 'timeout' })).status).toBe(201);
    for (let index = 0; index < rejections; index += 1) {
      expect((await api('POST', '/predictions', { booking_id: -1 })).status).toBe(400);
    }
    fed.push(...batch);
    failures += failureCount;
  }

  beforeAll(async () => {
    testStart = Date.now() / 1000;
    database = await createTestDatabase();
    service = await startServiceProcess({ databaseUrl: database.url, env: { MLMON_METRICS_CACHE_SECONDS: '1' } });
    workDirectory = await mkdtemp(path.join(tmpdir(), 'mlmon-dashboard-queries-'));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const configFile = path.join(workDirectory, 'prometheus.yml');
    await writeFile(
      configFile,
      await prometheusConfigFor({
        ruleFilesGlob: path.join(workDirectory, 'no-rules', '*.yml'),
        prometheusAddress: `127.0.0.1:${port}`,
        serviceAddress: new URL(service.baseUrl).host,
        // Nothing listens there; this test needs no Alertmanager.
        alertmanagerAddress: `127.0.0.1:${await freePort()}`,
        interval: '1s',
      }),
    );
    prometheus = await startDaemon('prometheus', binaries.prometheus, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(workDirectory, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ], `${prometheusUrl}/-/ready`);

    // The counters are scraped at zero before anything is fed.
    await waitFor('a first scrape of mlmon', async () => (await scalarAt('ml_requests_total{job="mlmon",outcome="success"}')) === 0);
    expect((await api('PUT', '/feature-flags', { ml_enabled: true, ml_traffic_percentage: 25 })).status).toBe(200);
    await feed(1, 1, 1);
    // Phase 1 scraped (the rejection series exists at 1) before phase 2.
    await waitFor('phase 1 in Prometheus', async () => (await scalarAt('sum(ml_ingest_rejected_total{job="mlmon"})')) === 1);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    rejectionsAfterFirst = 2;
    await feed(2, 3, rejectionsAfterFirst);

    const total = fed.length;
    const labeled = fed.filter((row) => row.actual !== undefined).length;
    await waitFor('the final values in Prometheus', async () => {
      const [predictions, labelled, successes, rejected] = await Promise.all([
        scalarAt('ml_prediction_window_predictions{window="24h",model_version="all"}'),
        scalarAt('ml_prediction_window_labeled{window="24h",model_version="all"}'),
        scalarAt('ml_requests_total{outcome="success"}'),
        scalarAt('sum(ml_ingest_rejected_total)'),
      ]);
      return predictions === total && labelled === labeled && successes === total && rejected === 1 + rejectionsAfterFirst;
    });
    // A few more scrapes so that rate() windows see the increases, then pin the evaluation time.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    evaluationTime = (await scalarAt('timestamp(up{job="mlmon"})'))!;
    expect(evaluationTime).toBeGreaterThan(testStart);
  }, 120_000);

  afterAll(async () => {
    const steps: (() => Promise<unknown> | undefined)[] = [
      () => stopAll([prometheus]),
      () => service?.stop(),
      () => database?.drop(),
      () => (workDirectory ? rm(workDirectory, { recursive: true, force: true }) : undefined),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        console.error(error);
      }
    }
  }, 60_000);

  it('finds Prometheus queries in both dashboards (stat and time series)', () => {
    expect(new Set(panelQueries.map((query) => query.dashboard))).toEqual(new Set(['mlmon-ml-quality', 'mlmon-service-health']));
    expect(panelQueries.filter((query) => query.type === 'stat').length).toBeGreaterThanOrEqual(10);
    expect(panelQueries.filter((query) => !query.instant).length).toBeGreaterThanOrEqual(10);
  });

  const versions = [FED_VERSION, 'all'];
  const cases = panelQueries.flatMap((query) =>
    (query.expr.includes('$model_version') || query.expr.includes('${model_version') ? versions : ['all']).map((version) => ({ ...query, version })),
  );

  it.each(cases.map((query) => [`${query.dashboard} / ${query.panel} / ${query.refId} [model_version=${query.version}]`, query]))('%s returns data', async (_name, query) => {
    const expr = substitute(query.expr, query.version);
    if (query.instant) {
      const result = await promQuery(expr, evaluationTime);
      expect(result.length).toBeGreaterThan(0);
      expect(result.some((sample: Json) => Number.isFinite(Number(sample.value[1])))).toBe(true);
      return;
    }
    const params = new URLSearchParams({ query: expr, start: String(Math.floor(testStart)), end: String(evaluationTime), step: '1' });
    const body = (await (await fetch(`${prometheusUrl}/api/v1/query_range?${params}`)).json()) as Json;
    expect(body.status).toBe('success');
    const series: Json[] = body.data.result;
    expect(series.length).toBeGreaterThan(0);
    expect(series.some((one) => one.values.some((point: [number, string]) => Number.isFinite(Number(point[1]))))).toBe(true);
  });

  /** Expected value of each stat panel, by title; a new stat panel fails until it is listed here. */
  function expectedStat(title: string, version: string): { value?: number; min?: number; max?: number } {
    const e = expectedFor(fed, version);
    const successes = fed.length;
    switch (title) {
      case 'MAE (24 h)':
        return { value: e.maeSeconds };
      case 'R² (24 h)':
        return { value: e.r2 };
      case 'Accuracy (24 h)':
        return { value: e.accuracy };
      case 'Avg prediction time (24 h)':
        return { value: e.latencySeconds };
      case 'ML enabled':
        return { value: 1 };
      case 'ML traffic':
        return { value: 0.25 };
      case 'ML success rate (24 h)':
        return { value: successes / (successes + failures) };
      case 'Predictions (24 h)':
        return { value: e.predictions };
      case 'Anomalies (24 h)':
        return { value: e.anomalies };
      case 'Label completeness (24 h)':
        return { value: e.labeled / e.predictions };
      case 'Service scraped':
      case 'Database':
        return { value: 1 };
      case 'Quality gauges age':
        return { min: 0, max: 10 };
      case 'Rejected writes (1 h)':
        // The reason series appeared at 1; increase() may extrapolate towards zero by at most that 1.
        return { min: rejectionsAfterFirst, max: rejectionsAfterFirst + 1 };
      default:
        throw new Error(`no expected value for the stat panel "${title}": add one to this test`);
    }
  }

  const statCases = cases.filter((query) => query.type === 'stat');
  it.each(statCases.map((query) => [`${query.panel} [model_version=${query.version}]`, query]))('stat %s shows the value computed from the data fed', async (_name, query) => {
    const result = await promQuery(substitute(query.expr, query.version), evaluationTime);
    expect(result).toHaveLength(1);
    const value = Number(result[0].value[1]);
    const expected = expectedStat(query.panel, query.version);
    if (expected.value !== undefined) expect(value).toBeCloseTo(expected.value, 6);
    if (expected.min !== undefined) expect(value).toBeGreaterThanOrEqual(expected.min);
    if (expected.max !== undefined) expect(value).toBeLessThanOrEqual(expected.max);
  });

  it('the fed data distinguish the versions (the per-version cards are not the fleet numbers)', () => {
    const one = expectedFor(fed, FED_VERSION);
    const fleet = expectedFor(fed, 'all');
    expect(one.predictions).toBeLessThan(fleet.predictions);
    expect(one.maeSeconds).not.toBeCloseTo(fleet.maeSeconds, 3);
    expect(fleet.anomalies).toBeGreaterThan(0);
    expect(fleet.accuracy).toBeGreaterThan(0);
    expect(fleet.accuracy).toBeLessThan(1);
  });
});
