/**
 * The committed dashboards/*.json are exactly what the TypeScript generator produces, and the
 * generated dashboards carry the seed's targets (uids, units, thresholds, refresh, variable).
 */
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards, renderDashboard } from '../../src/expose/dashboards/index.js';
import { renderDashboardFiles } from '../../src/expose/dashboards/generate.js';
import { staleFiles, writeGeneratedFiles } from '../../src/cli/generated-files.js';
import { thresholds as alertThresholds } from '../../src/expose/alerting/definitions.js';

const DASHBOARDS = fileURLToPath(new URL('../../dashboards/', import.meta.url));

type Json = any;
const byTitle = (dashboard: Json, title: string): Json => {
  const panel = dashboard.panels.find((p: Json) => p.title === title);
  if (!panel) throw new Error(`no panel "${title}" in ${dashboard.title}`);
  return panel;
};
const steps = (panel: Json) => panel.fieldConfig.defaults.thresholds.steps.map((s: Json) => [s.value, s.color]);

describe('dashboards as code', () => {
  const generated = buildDashboards();

  test.each(generated.map((g) => [g.fileName, g] as const))('committed %s equals the generator output', async (fileName, g) => {
    const committed = await readFile(path.join(DASHBOARDS, fileName), 'utf8').catch(() => '(missing)');
    // Compare text (formatting included) so that `npm run dashboards` is a no-op on a clean tree.
    expect(committed).toBe(renderDashboard(g.dashboard));
  });

  test('no stray dashboard files: every JSON in dashboards/ comes from the generator', async () => {
    const files = (await readdir(DASHBOARDS)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(generated.map((g) => g.fileName).sort());
  });

  test('the check names a differing file and a stray one, and writes nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mlmon-dash-'));
    try {
      const files = renderDashboardFiles();
      expect((await writeGeneratedFiles(dir, files)).map((r) => r.written)).toEqual(generated.map(() => true));
      expect((await writeGeneratedFiles(dir, files)).map((r) => r.written)).toEqual(generated.map(() => false));
      await writeFile(path.join(dir, generated[0]!.fileName), '{}\n');
      await writeFile(path.join(dir, 'renamed-long-ago.json'), '{}\n');
      expect(await staleFiles(dir, files, '.json')).toEqual([generated[0]!.fileName, 'renamed-long-ago.json']);
      expect(await readFile(path.join(dir, generated[0]!.fileName), 'utf8')).toBe('{}\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('uids are stable and unique, panel ids unique per dashboard', () => {
    expect(generated.map((g) => g.dashboard.uid)).toEqual(['mlmon-ml-quality', 'mlmon-service-health']);
    for (const { dashboard } of generated) {
      const ids = (dashboard.panels ?? []).map((p: Json) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  test('every time series panel shows its legend, so that its series (versions, routes, quantiles) can be told apart', () => {
    const hidden = generated.flatMap(({ dashboard }) =>
      (JSON.parse(renderDashboard(dashboard)).panels as Json[])
        .filter((p) => p.type === 'timeseries' && p.options?.legend?.showLegend !== true)
        .map((p) => `${dashboard.title} / ${p.title}`),
    );
    expect(hidden).toEqual([]);
  });

  test('links and annotation toggles are shown above the panels, not hidden in the controls menu', () => {
    // The SDK fills the optional `placement` with its only value, "inControlsMenu" (grafana-foundation-sdk#1272).
    const misplaced = generated.flatMap(({ dashboard }) => {
      const d: Json = JSON.parse(renderDashboard(dashboard));
      return [...(d.links ?? []), ...(d.annotations?.list ?? []), ...(d.panels as Json[]).flatMap((p) => p.links ?? [])]
        .filter((item: Json) => 'placement' in item)
        .map((item: Json) => `${d.title} / ${item.title ?? item.name}: ${item.placement}`);
    });
    expect(misplaced).toEqual([]);
  });

  test('ML prediction quality carries the seed targets and colours', () => {
    const q: Json = JSON.parse(renderDashboard(generated[0]!.dashboard));
    expect(q.refresh).toBe('30s');
    expect(q.templating.list.map((v: Json) => [v.name, v.definition])).toEqual([
      ['model_version', 'label_values(ml_prediction_window_predictions, model_version)'],
    ]);
    const mae = byTitle(q, 'MAE (24 h)');
    expect(mae.fieldConfig.defaults.unit).toBe('s');
    expect(steps(mae)).toEqual([[null, 'green'], [180, 'orange'], [300, 'red']]);
    expect(mae.targets[0].expr).toBe('ml_prediction_mae_seconds{window="24h", model_version="$model_version"}');
    // 2.5 min must not be rounded to "3 min" (Grafana shows seconds >= 60 in minutes at these decimals)
    expect(mae.fieldConfig.defaults.decimals).toBeGreaterThanOrEqual(1);
    // green from the seed's card target, where the R² ticket fires
    expect(steps(byTitle(q, 'R² (24 h)'))).toEqual([[null, 'red'], [0.5, 'orange'], [0.65, 'green'], [0.7, 'dark-green']]);
    const accuracy = byTitle(q, 'Accuracy (24 h)');
    expect(accuracy.fieldConfig.defaults.unit).toBe('percentunit');
    expect(steps(accuracy)).toEqual([[null, 'red'], [0.7, 'orange'], [0.8, 'green']]);
    const latency = byTitle(q, 'Avg prediction time (24 h)');
    expect([latency.fieldConfig.defaults.unit, steps(latency)]).toEqual(['s', [[null, 'green'], [0.15, 'orange'], [0.3, 'red']]]);
    const anomalies = byTitle(q, 'Anomalies (24 h)');
    expect(anomalies.links[0].url).toContain(`viewPanel=panel-${byTitle(q, 'Anomalies (error > 5 min)').id}`);
    expect(q.annotations.list.some((a: Json) => a.datasource?.uid === 'mlmon-api' && a.target?.queryType === 'anomalies')).toBe(true);
    // the UTC day as the plugin's text, not as a time the viewer's time zone would shift to the evening before
    const daily = byTitle(q, 'Daily metrics (7 days)');
    expect(daily.fieldConfig.overrides).toContainEqual({ matcher: { id: 'byName', options: 'date' }, properties: [{ id: 'custom.hidden', value: true }] });
    // the seed's feature-flag status, side by side: ML on/off, traffic, success rate, all-time total
    const flagStatus = ['ML enabled', 'ML traffic', 'ML success rate (24 h)', 'Total predictions'].map((t) => byTitle(q, t));
    expect(new Set(flagStatus.map((p: Json) => p.gridPos.y)).size).toBe(1);
    const total = byTitle(q, 'Total predictions');
    expect([total.datasource.uid, total.targets[0].queryType, total.options.reduceOptions.fields]).toEqual(['mlmon-api', 'summary', '/^Total predictions$/']);
    // no 0/0 (NaN) on a day without requests
    expect(byTitle(q, 'ML success rate (24 h)').targets[0].expr).toMatch(/\/ \(sum\(increase\(ml_requests_total\[24h\]\)\) > 0\)$/);
  });

  test('the health dashboard turns the gauge age red where its alert starts counting', () => {
    const h: Json = JSON.parse(renderDashboard(generated[1]!.dashboard));
    expect(steps(byTitle(h, 'Quality gauges age')).at(-1)).toEqual([alertThresholds.metricsSnapshotMaxAgeSeconds, 'red']);
  });
});
