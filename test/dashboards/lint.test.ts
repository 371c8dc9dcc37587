/**
 * Dashboard lint (in the spirit of Grafana's dashboard-linter): every panel has a title, a unit
 * when it shows numbers, a provisioned data source and targets; rate()/irate() use
 * $__rate_interval; every PromQL expression names only metrics a live service exports (its
 * /metrics, from buildApp on a test database) and parses (promtool check rules, when installed).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildApp } from '../../src/app.js';
import { buildDashboards, renderDashboard } from '../../src/expose/dashboards/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { describeWhenInstalled, isInstalled, PROMTOOL_HINT } from '../support/required-tools.js';

type Json = any;
const run = promisify(execFile);

const DATASOURCE_UIDS = new Set(['mlmon-prometheus', 'mlmon-api', 'mlmon-alertmanager', '-- Grafana --']);
const NUMERIC_PANELS = new Set(['stat', 'timeseries', 'gauge', 'bargauge', 'barchart', 'histogram', 'trend', 'xychart']);
/** Series Prometheus itself adds to every scrape. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);
/** Values substituted for Grafana variables before an expression is checked. */
const GRAFANA_VARS: Record<string, string> = { __rate_interval: '1m', __interval: '30s', __range: '1h', model_version: 'all' };

const dashboards: Json[] = buildDashboards().map((g) => JSON.parse(renderDashboard(g.dashboard)));
const panelsOf = (d: Json): Json[] => (d.panels ?? []).flatMap((p: Json) => (p.type === 'row' ? p.panels ?? [] : [p]));
const promTargets = (d: Json): Array<{ where: string; expr: string }> => [
  ...panelsOf(d).flatMap((p) =>
    (p.targets ?? [])
      .filter((t: Json) => (t.datasource ?? p.datasource)?.type === 'prometheus')
      .map((t: Json) => ({ where: `${d.title} / ${p.title} / ${t.refId}`, expr: t.expr as string })),
  ),
  ...(d.templating?.list ?? [])
    .filter((v: Json) => v.datasource?.type === 'prometheus')
    .map((v: Json) => ({ where: `${d.title} / $${v.name}`, expr: variableQueryExpr(v) })),
];

/** `label_values(metric{...}, label)` -> `metric{...}`; other variable queries as they are. */
function variableQueryExpr(v: Json): string {
  const query: string = typeof v.query === 'string' ? v.query : v.query?.query ?? '';
  const m = /^label_values\((.*),\s*[a-zA-Z_]\w*\)$/.exec(query.trim());
  return m ? m[1]! : query;
}

export function substituteVariables(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)/g, (all, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = GRAFANA_VARS[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${all} in ${expr}`);
    return value;
  });
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);

/** Metric names in a PromQL expression (not functions, aggregations, labels or keywords). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names];
}

/** Names a Prometheus scrape of this exposition text would store. */
function exportedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>(SYNTHETIC);
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [m[1]!, m[2]!];
    names.add(name);
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((s) => names.add(name + s));
    if (type === 'summary') ['_sum', '_count'].forEach((s) => names.add(name + s));
  }
  return names;
}

describe('dashboard lint', () => {
  test.each(dashboards.map((d) => [d.title, d] as const))('%s: panels have a title, unit, data source and targets', (_title, d) => {
    const problems: string[] = [];
    const ds = (ref: Json) => ref && DATASOURCE_UIDS.has(ref.uid);
    for (const p of panelsOf(d)) {
      const name = `${p.type} #${p.id} "${p.title ?? ''}"`;
      if (!p.title || !String(p.title).trim()) problems.push(`${name}: no title`);
      if (!ds(p.datasource)) problems.push(`${name}: no provisioned data source (uid) on the panel`);
      if (!Array.isArray(p.targets) || p.targets.length === 0) problems.push(`${name}: no targets`);
      for (const t of p.targets ?? []) {
        if (!t.refId) problems.push(`${name}: a target without refId`);
        if (t.datasource && !ds(t.datasource)) problems.push(`${name}/${t.refId}: unknown data source ${JSON.stringify(t.datasource)}`);
        if (t.datasource?.type === 'prometheus' && !t.expr) problems.push(`${name}/${t.refId}: empty expression`);
      }
      if (NUMERIC_PANELS.has(p.type) && !p.fieldConfig?.defaults?.unit) problems.push(`${name}: no unit`);
    }
    for (const a of d.annotations?.list ?? []) if (!ds(a.datasource)) problems.push(`annotation "${a.name}": no provisioned data source`);
    for (const v of d.templating?.list ?? []) if (v.type === 'query' && !ds(v.datasource)) problems.push(`variable ${v.name}: no provisioned data source`);
    expect(problems).toEqual([]);
  });

  test('every rate()/irate() uses $__rate_interval', () => {
    const offenders = dashboards.flatMap(promTargets).flatMap(({ where, expr }) =>
      [...expr.matchAll(/\b(i?rate)\s*\([^[]*\[([^\]]*)\]/g)].filter((m) => m[2] !== '$__rate_interval').map((m) => `${where}: ${m[1]}(...[${m[2]}])`),
    );
    expect(offenders).toEqual([]);
  });

  test('the metric-name extraction finds names and nothing else', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="x"}[$__rate_interval])))')).toEqual([
      'http_request_duration_seconds_bucket',
    ]);
    expect(metricNames('a_total{x="rate(b)"} / on() group_left(l) sum without (k) (c:rec)').sort()).toEqual(['a_total', 'c:rec']);
  });

  describe('against a live /metrics', () => {
    let db: TestDatabase;
    let exposition = '';

    beforeAll(async () => {
      db = await createTestDatabase();
      const app = await buildApp({
        sql: db.sql,
        tokens: { ingest: 'i'.repeat(32), read: 'r'.repeat(32), metrics: undefined },
        rules: { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 },
        metricsCacheSeconds: 0,
        version: '0.0.0-test',
      });
      try {
        await app.listen({ host: '127.0.0.1', port: 0 });
        const { port } = app.server.address() as AddressInfo;
        // A request first, so that the HTTP histogram has a route; then the exposition.
        await fetch(`http://127.0.0.1:${port}/healthz`);
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(response.status).toBe(200);
        exposition = await response.text();
      } finally {
        await app.close();
      }
    });
    afterAll(async () => db?.drop());

    test('every PromQL expression names only metrics the service exports', () => {
      const exported = exportedSeriesNames(exposition);
      expect(exported.has('ml_prediction_mae_seconds')).toBe(true); // the parse found the gauges
      const unknown = dashboards
        .flatMap(promTargets)
        .flatMap(({ where, expr }) => metricNames(substituteVariables(expr)).filter((n) => !exported.has(n)).map((n) => `${where}: ${n}`));
      expect(unknown).toEqual([]);
    });
  });

  describeWhenInstalled('promtool check rules', isInstalled('promtool') ? [] : ['promtool'], PROMTOOL_HINT, () => {

    async function checkRules(exprs: string[]): Promise<{ ok: boolean; output: string }> {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'mlmon-promql-'));
      try {
        const file = path.join(dir, 'dashboard-exprs.yml');
        // JSON is valid YAML: no quoting surprises for the expressions.
        const groups = [{ name: 'dashboard-expressions', rules: exprs.map((expr, i) => ({ record: `mlmon:dashboard_expr:${i}`, expr })) }];
        await writeFile(file, JSON.stringify({ groups }, null, 2));
        const r = await run('promtool', ['check', 'rules', file]).then(
          (o) => ({ ok: true, output: o.stdout + o.stderr }),
          (e: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
        );
        return r;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }

    test('every expression (variables substituted) parses', async () => {
      const exprs = dashboards.flatMap(promTargets).map((t) => substituteVariables(t.expr));
      expect(exprs.length).toBeGreaterThan(10);
      const result = await checkRules(exprs);
      expect(result).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
      // The check can fail: a broken expression is refused.
      expect((await checkRules(['sum(rate(ml_requests_total[1m])'])).ok).toBe(false);
    });
  });
});
