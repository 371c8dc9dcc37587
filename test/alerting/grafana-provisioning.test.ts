/**
 * The Grafana-managed alert rules (provisioning/alerting/) are generated from the same definitions
 * as the Prometheus rules: the committed files are the generator's output, they match Grafana's
 * file-provisioning format (a project-owned JSON schema), and both outputs agree alert by alert
 * (name, query, threshold, severity and other labels, `for`, annotations). Exactly one evaluator
 * pages for either setting of `--evaluator`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { alertDefinitions, thresholds } from '../../src/expose/alerting/definitions.js';
import {
  GRAFANA_CONTACT_POINTS_FILE,
  GRAFANA_POLICIES_FILE,
  GRAFANA_RULES_FILE,
  ALERTING_RULES_FILE,
  renderGrafanaFiles,
  renderRuleFiles,
  staleRuleFiles,
} from '../../src/expose/alerting/generate.js';
import { primaryComparison, toGrafanaTemplate, durationSeconds } from '../../src/expose/alerting/grafana.js';
import { REPO_ROOT, RULES_DIR } from './support/stack-config.js';

const GRAFANA_DIR = path.join(REPO_ROOT, 'provisioning/alerting');
const SCHEMA_PATH = path.join(REPO_ROOT, 'test/alerting/schemas/grafana-alerting-provisioning.schema.json');

interface PromRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface GrafanaQuery {
  refId: string;
  datasourceUid: string;
  model: Record<string, unknown> & {
    expr?: string;
    type?: string;
    expression?: string;
    conditions?: { evaluator: { type: string; params: number[] } }[];
  };
}
interface GrafanaRule {
  uid: string;
  title: string;
  condition: string;
  data: GrafanaQuery[];
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  isPaused: boolean;
  noDataState: string;
}
interface GrafanaRulesFile {
  apiVersion: number;
  groups: { name: string; folder: string; interval: string; rules: GrafanaRule[] }[];
}

let validate: ValidateFunction;

beforeAll(async () => {
  const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8')) as object;
  validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false }).compile(schema);
});

function promRules(content: string): PromRule[] {
  return (parse(content) as { groups: { rules: PromRule[] }[] }).groups.flatMap((group) => group.rules);
}

function grafanaRules(content: string): GrafanaRule[] {
  return (parse(content) as GrafanaRulesFile).groups.flatMap((group) => group.rules);
}

const fileContent = (files: { fileName: string; content: string }[], name: string): string => {
  const file = files.find((candidate) => candidate.fileName === name);
  if (!file) throw new Error(`no ${name} among ${files.map((f) => f.fileName).join(', ')}`);
  return file.content;
};

describe('generated Grafana alerting provisioning', () => {
  it('the committed provisioning/alerting/*.yml equal the generator output (run `npm run alerts`)', async () => {
    await expect(staleRuleFiles(GRAFANA_DIR, renderGrafanaFiles())).resolves.toEqual([]);
  });

  it.each([GRAFANA_RULES_FILE, GRAFANA_CONTACT_POINTS_FILE, GRAFANA_POLICIES_FILE])('%s matches the provisioning schema', async (name) => {
    const document = parse(await readFile(path.join(GRAFANA_DIR, name), 'utf8')) as unknown;
    const valid = validate(document);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema refuses broken files (it can fail)', () => {
    const good = parse(fileContent(renderGrafanaFiles(), GRAFANA_RULES_FILE)) as GrafanaRulesFile;
    const mutate = (change: (file: GrafanaRulesFile & Record<string, unknown>) => void): boolean => {
      const copy = structuredClone(good) as GrafanaRulesFile & Record<string, unknown>;
      change(copy);
      return validate(copy) as boolean;
    };
    expect(mutate(() => {})).toBe(true);
    expect(mutate((file) => (file.apiVersion = 2))).toBe(false);
    expect(mutate((file) => delete (file.groups[0]!.rules[0] as Partial<GrafanaRule>).condition)).toBe(false);
    expect(mutate((file) => (file.groups[0]!.rules[0]!.noDataState = 'Fine'))).toBe(false);
    expect(mutate((file) => (file.groups[0]!.rules[0]!.uid = 'x'.repeat(41)))).toBe(false);
    expect(mutate((file) => (file.groups[0]!.interval = '15s'))).toBe(false);
    expect(mutate((file) => ((file.groups[0]!.rules[0] as unknown as Record<string, unknown>).paused = true))).toBe(false);
    expect(mutate((file) => (file.groups[0]!.rules[0]!.data[1]!.model.conditions = [{ evaluator: { type: 'above', params: [1] } }]))).toBe(false);
    expect(mutate((file) => (file.groups[0]!.rules[0]!.data[1]!.model.conditions = [{ evaluator: { type: 'within_range', params: [1] } }]))).toBe(false);
    expect(mutate((file) => delete file.groups[0]!.rules[0]!.data[0]!.model.expr)).toBe(false);

    const contact = parse(fileContent(renderGrafanaFiles(), GRAFANA_CONTACT_POINTS_FILE)) as {
      contactPoints: { receivers: { settings: Record<string, unknown> }[] }[];
    };
    expect(validate(contact)).toBe(true);
    delete contact.contactPoints[0]!.receivers[0]!.settings.url;
    expect(validate(contact)).toBe(false);
  });
});

describe('Prometheus and Grafana rules agree', () => {
  const prometheus = promRules(fileContent(renderRuleFiles(), ALERTING_RULES_FILE));
  const grafana = grafanaRules(fileContent(renderGrafanaFiles(), GRAFANA_RULES_FILE));

  it('have the same alerts, one Grafana rule per Prometheus rule, in the same groups', () => {
    expect(prometheus.length).toBe(alertDefinitions.length);
    expect(grafana.map((rule) => rule.title).sort()).toEqual(prometheus.map((rule) => rule.alert).sort());
    const promGroups = (parse(fileContent(renderRuleFiles(), ALERTING_RULES_FILE)) as { groups: { name: string; rules: PromRule[] }[] }).groups;
    const grafanaGroups = (parse(fileContent(renderGrafanaFiles(), GRAFANA_RULES_FILE)) as GrafanaRulesFile).groups;
    expect(grafanaGroups.map((group) => [group.name, group.rules.map((rule) => rule.title)])).toEqual(
      promGroups.map((group) => [group.name, group.rules.map((rule) => rule.alert)]),
    );
    expect(new Set(grafana.map((rule) => rule.uid)).size).toBe(grafana.length);
  });

  it.each(alertDefinitions.map((definition) => [definition.name]))('%s: same query, threshold, for, labels and annotations', (name) => {
    const prom = prometheus.find((rule) => rule.alert === name)!;
    const rule = grafana.find((candidate) => candidate.title === name)!;
    expect(prom).toBeDefined();
    expect(rule).toBeDefined();

    const query = rule.data.find((item) => item.refId === 'A')!;
    expect(query.datasourceUid).toBe('mlmon-prometheus');
    expect(query.model.expr).toBe(prom.expr);
    expect(query.model.instant).toBe(true);

    const condition = rule.data.find((item) => item.refId === rule.condition)!;
    expect(condition.datasourceUid).toBe('__expr__');
    expect(condition.model.type).toBe('threshold');
    expect(condition.model.expression).toBe('A');
    // The threshold is the PromQL's own comparison, read here independently of the renderer.
    const [, operator, number] = /\s(>=|<=|==|!=|>|<)\s+(-?[\d.]+)/.exec(prom.expr)!;
    const expectedType = { '>': 'gt', '<': 'lt', '==': 'eq', '!=': 'ne', '>=': 'gte', '<=': 'lte' }[operator!];
    expect(condition.model.conditions).toEqual([{ evaluator: { type: expectedType, params: [Number(number)] } }]);

    expect(durationSeconds(rule.for)).toBe(durationSeconds(prom.for));
    expect(rule.labels).toEqual(prom.labels);
    expect(['page', 'ticket']).toContain(rule.labels.severity);
    const back = Object.fromEntries(Object.entries(rule.annotations).map(([key, value]) => [key, value.replaceAll('$values.A.Value', '$value')]));
    expect(back).toEqual(prom.annotations);
    expect(JSON.stringify(rule.annotations)).not.toMatch(/\$value(?![s])/);
    expect(rule.noDataState).toBe('OK');
  });

  it('carry the thresholds of definitions.ts (seed numbers) on the Grafana side', () => {
    const evaluator = (name: string) => grafana.find((rule) => rule.title === name)!.data.find((item) => item.refId === 'C')!.model.conditions![0]!.evaluator;
    expect(evaluator('MLPredictionMAEBad')).toEqual({ type: 'gt', params: [thresholds.maeMinutes.page * 60] });
    expect(evaluator('MLPredictionMAEAboveTarget')).toEqual({ type: 'gt', params: [thresholds.maeMinutes.ticket * 60] });
    expect(evaluator('MLPredictionAccuracyBad')).toEqual({ type: 'lt', params: [thresholds.accuracyRatio.page] });
    expect(evaluator('MLPredictionAccuracyBelowTarget')).toEqual({ type: 'lt', params: [thresholds.accuracyRatio.ticket] });
    expect(evaluator('MLPredictionR2Bad')).toEqual({ type: 'lt', params: [thresholds.r2.page] });
    expect(evaluator('MLPredictionR2BelowTarget')).toEqual({ type: 'lt', params: [thresholds.r2.ticket] });
    expect(evaluator('MLPredictionAnomalyRateHigh')).toEqual({ type: 'gt', params: [thresholds.anomalyRatio.ticket] });
    expect(evaluator('MLPredictionBiased')).toEqual({ type: 'gt', params: [thresholds.biasMinutes.ticket * 60] });
    expect(evaluator('MLPredictionLatencyP95High')).toEqual({ type: 'gt', params: [thresholds.latencySeconds.page] });
    expect(evaluator('MLPredictionLatencyAverageHigh')).toEqual({ type: 'gt', params: [thresholds.latencySeconds.target] });
    expect(evaluator('MLRequestSuccessRateLow')).toEqual({ type: 'lt', params: [thresholds.mlRequestSuccessRatio.minimum] });
    expect(evaluator('MLGroundTruthLagging')).toEqual({ type: 'lt', params: [thresholds.groundTruthCoverageRatio.minimum] });
    expect(evaluator('MLMetricsSnapshotStale')).toEqual({ type: 'gt', params: [thresholds.metricsSnapshotMaxAgeSeconds] });
    expect(evaluator('MLServiceDown')).toEqual({ type: 'eq', params: [0] });
    expect(evaluator('MLDatabaseDown')).toEqual({ type: 'eq', params: [0] });
  });

  it('a changed threshold in the definitions changes both outputs', () => {
    const edited = alertDefinitions.map((definition) =>
      definition.name === 'MLPredictionMAEBad' ? { ...definition, expr: definition.expr.replaceAll('> 300', '> 420') } : definition,
    );
    const prom = promRules(fileContent(renderRuleFiles({ alerts: edited }), ALERTING_RULES_FILE)).find((rule) => rule.alert === 'MLPredictionMAEBad')!;
    const rule = grafanaRules(fileContent(renderGrafanaFiles({ alerts: edited }), GRAFANA_RULES_FILE)).find((r) => r.title === 'MLPredictionMAEBad')!;
    expect(prom.expr).toContain('> 420');
    expect(rule.data[0]!.model.expr).toBe(prom.expr);
    expect(rule.data[1]!.model.conditions![0]!.evaluator).toEqual({ type: 'gt', params: [420] });
  });

  it('primaryComparison and the template rewrite handle the edge cases', () => {
    expect(primaryComparison('up{job="mlmon"} == 0')).toEqual({ type: 'eq', value: 0 });
    expect(primaryComparison('a:b:c < 0.95\nand d >= 20')).toEqual({ type: 'lt', value: 0.95 });
    expect(() => primaryComparison('sum(rate(x[5m]))')).toThrow(/comparison/);
    expect(toGrafanaTemplate('{{ $value | humanize }} {{ $values.B }} {{ $labels.x }}')).toBe('{{ $values.A.Value | humanize }} {{ $values.B }} {{ $labels.x }}');
  });
});

describe('one evaluator pages, never both', () => {
  const activeAlerts = (evaluator: 'prometheus' | 'grafana') => ({
    prometheus: promRules(fileContent(renderRuleFiles({ evaluator }), ALERTING_RULES_FILE)).length,
    grafanaUnpaused: grafanaRules(fileContent(renderGrafanaFiles({ evaluator }), GRAFANA_RULES_FILE)).filter((rule) => rule.isPaused !== true).length,
  });

  it('default (committed): Prometheus + Alertmanager page, every Grafana rule is paused', async () => {
    expect(activeAlerts('prometheus')).toEqual({ prometheus: alertDefinitions.length, grafanaUnpaused: 0 });
    const committed = grafanaRules(await readFile(path.join(GRAFANA_DIR, GRAFANA_RULES_FILE), 'utf8'));
    expect(committed.length).toBe(alertDefinitions.length);
    expect(committed.every((rule) => rule.isPaused === true)).toBe(true);
    const committedProm = promRules(await readFile(path.join(RULES_DIR, ALERTING_RULES_FILE), 'utf8'));
    expect(committedProm.length).toBe(alertDefinitions.length);
  });

  it('--evaluator grafana: Grafana rules active, Prometheus alert groups empty, recording rules kept', () => {
    expect(activeAlerts('grafana')).toEqual({ prometheus: 0, grafanaUnpaused: alertDefinitions.length });
    const [recordingDefault] = renderRuleFiles();
    const [recordingGrafana] = renderRuleFiles({ evaluator: 'grafana' });
    expect(recordingGrafana).toEqual(recordingDefault);
    for (const file of renderGrafanaFiles({ evaluator: 'grafana' })) expect(validate(parse(file.content))).toBe(true);
  });
});

describe('routing to the external Alertmanager', () => {
  it('the contact point forwards to the Alertmanager compose runs, and the policy uses it', async () => {
    const contact = parse(await readFile(path.join(GRAFANA_DIR, GRAFANA_CONTACT_POINTS_FILE), 'utf8')) as {
      contactPoints: { name: string; receivers: { type: string; settings: { url: string } }[] }[];
    };
    const policies = parse(await readFile(path.join(GRAFANA_DIR, GRAFANA_POLICIES_FILE), 'utf8')) as {
      policies: { receiver: string; group_by: string[]; group_interval: string; repeat_interval: string }[];
    };
    const [point] = contact.contactPoints;
    expect(point!.receivers).toEqual([expect.objectContaining({ type: 'prometheus-alertmanager', settings: { url: '${ALERTMANAGER_URL}' } })]);
    expect(policies.policies[0]!.receiver).toBe(point!.name);
    // Alerts are re-sent well before Grafana's EndsAt (a few 30 s evaluations) lets the external
    // Alertmanager resolve them.
    expect(durationSeconds(policies.policies[0]!.repeat_interval)).toBeLessThanOrEqual(120);

    // The URL variable is the one docker-compose.yml gives Grafana, pointing at the alertmanager service.
    const compose = parse(await readFile(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { grafana: { environment: Record<string, string> } };
    };
    expect(compose.services.grafana.environment.ALERTMANAGER_URL).toMatch(/alertmanager:9093/);
  });

  it('the Grafana rules read a data source that is provisioned', async () => {
    const datasources = parse(await readFile(path.join(REPO_ROOT, 'provisioning/datasources/datasources.yml'), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    };
    const uids = new Set(grafanaRules(await readFile(path.join(GRAFANA_DIR, GRAFANA_RULES_FILE), 'utf8')).flatMap((rule) => rule.data.map((q) => q.datasourceUid)));
    uids.delete('__expr__');
    expect([...uids]).toEqual(['mlmon-prometheus']);
    expect(datasources.datasources).toContainEqual(expect.objectContaining({ uid: 'mlmon-prometheus', type: 'prometheus' }));
  });
});
