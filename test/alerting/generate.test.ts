/**
 * The committed rule files are exactly the generator's output, and the definitions hang together:
 * unique names, recording rules that exist, runbook sections that exist, one job name everywhere.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import {
  SERVICE_JOB,
  alertDefinitions,
  recordingRules,
  thresholds,
} from '../../src/expose/alerting/definitions.js';
import { renderRuleFiles, staleRuleFiles } from '../../src/expose/alerting/generate.js';
import { PROMETHEUS_DIR, REPO_ROOT, RULES_DIR } from './support/stack-config.js';

describe('generated Prometheus rule files', () => {
  it('the committed provisioning/prometheus/rules/*.yml equal the generator output (run `node dist/expose/alerting/generate.js`)', async () => {
    await expect(staleRuleFiles(RULES_DIR, renderRuleFiles())).resolves.toEqual([]);
  });

  it('the staleness check notices an edited, an extra and a missing file', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'mlmon-rules-'));
    try {
      const expected = renderRuleFiles();
      const [recording, alerting] = expected;
      for (const file of expected) await writeFile(path.join(directory, file.fileName), file.content);
      await expect(staleRuleFiles(directory, expected)).resolves.toEqual([]);

      // A hand edit of one threshold (MAE page at 6 min instead of 5).
      await writeFile(path.join(directory, alerting!.fileName), alerting!.content.replace('> 300', '> 360'));
      await expect(staleRuleFiles(directory, expected)).resolves.toEqual([alerting!.fileName]);

      await writeFile(path.join(directory, 'hand-written.yml'), 'groups: []\n');
      await expect(staleRuleFiles(directory, expected)).resolves.toEqual([alerting!.fileName, 'hand-written.yml']);

      await rm(path.join(directory, recording!.fileName));
      await expect(staleRuleFiles(directory, expected)).resolves.toEqual([recording!.fileName, alerting!.fileName, 'hand-written.yml']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('rendering is deterministic and honours a different runbook base URL', () => {
    expect(renderRuleFiles()).toEqual(renderRuleFiles());
    const [, alerting] = renderRuleFiles({ runbookUrl: 'https://wiki.example.org/mlmon-runbook' });
    const rules = (parse(alerting!.content) as { groups: { rules: { annotations: { runbook_url: string } }[] }[] }).groups.flatMap((g) => g.rules);
    expect(rules).toHaveLength(alertDefinitions.length);
    for (const rule of rules) expect(rule.annotations.runbook_url).toMatch(/^https:\/\/wiki\.example\.org\/mlmon-runbook#[a-z0-9-]+$/);
  });
});

describe('alert definitions', () => {
  it('have unique names, and at most one page per signal', () => {
    const names = alertDefinitions.map((definition) => definition.name);
    expect(new Set(names).size).toBe(names.length);
    const pagesPerSignal = new Map<string, number>();
    for (const definition of alertDefinitions.filter((d) => d.severity === 'page')) {
      pagesPerSignal.set(definition.signal, (pagesPerSignal.get(definition.signal) ?? 0) + 1);
    }
    expect([...pagesPerSignal.values()].every((count) => count === 1)).toBe(true);
  });

  it('only use recording rules that are defined', () => {
    const defined = new Set(recordingRules.map((rule) => rule.record));
    // Recording-rule names are the only metric names with colons.
    const used = alertDefinitions.flatMap((definition) => definition.expr.match(/[a-z_]+:[a-z0-9_]+:[a-z0-9_]+/g) ?? []);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(defined).toContain(name);
  });

  it('guard every quality alert with the minimum number of labelled predictions', () => {
    const quality = alertDefinitions.filter((definition) => definition.group === 'mlmon-quality');
    expect(quality.length).toBeGreaterThanOrEqual(7);
    for (const definition of quality) {
      expect(definition.expr).toMatch(/ml_prediction_window_labeled\{window="(1h|24h|7d)"\} >= \d+/);
      for (const [, window, minimum] of definition.expr.matchAll(/ml_prediction_window_labeled\{window="(1h|24h|7d)"\} >= (\d+)/g)) {
        expect(Number(minimum)).toBe(thresholds.minimumLabeledPredictions[window as keyof typeof thresholds.minimumLabeledPredictions]);
      }
    }
  });

  it('point at runbook sections that exist in docs/runbook.md', async () => {
    const runbook = await readFile(path.join(REPO_ROOT, 'docs/runbook.md'), 'utf8');
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set(
      [...runbook.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) =>
        heading!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'),
      ),
    );
    for (const definition of alertDefinitions) expect({ alert: definition.name, anchor: anchors.has(definition.runbookAnchor) }).toEqual({ alert: definition.name, anchor: true });
    // Every alert is named in the runbook, so searching the page for an alert name finds its section.
    for (const definition of alertDefinitions) expect(runbook).toContain(definition.name);
  });

  it('use the scrape job name of provisioning/prometheus/prometheus.yml', async () => {
    const config = parse(await readFile(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] };
    expect(config.scrape_configs.map((scrape) => scrape.job_name)).toContain(SERVICE_JOB);
    expect(alertDefinitions.find((definition) => definition.name === 'MLServiceDown')?.expr).toContain(`job="${SERVICE_JOB}"`);
  });
});
