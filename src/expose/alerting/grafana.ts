/**
 * Renders the alert definitions (definitions.ts) as Grafana alerting provisioning files
 * (apiVersion 1): Grafana-managed alert rules, a contact point that forwards to the external
 * Alertmanager, and the notification policy. Pure: no I/O; generate.ts writes the files.
 *
 * Each rule is the Prometheus alert translated one to one:
 *
 * - query A runs the definition's PromQL (instant) on the Prometheus data source `mlmon-prometheus`;
 *   as in Prometheus, it returns only the series that breach (guards and `unless` clauses included),
 *   each valued in base units;
 * - expression C is a Grafana threshold on A with the comparison and number of the PromQL's
 *   primary comparison (`… > 300 and …` → `gt 300`), so the threshold is visible in Grafana's UI;
 * - `for`, labels (`severity`, `signal`, …) and the alert name (`title`) are the definition's, so
 *   the external Alertmanager routes, groups and inhibits Grafana's alerts exactly like Prometheus'.
 *
 * The quality/latency/traffic alerts read recording rules (`model_version:…`, `job:…`): Prometheus
 * must load provisioning/prometheus/rules/mlmon-recording.yml whichever evaluator pages.
 *
 * No `$` outside annotations and queries: Grafana expands environment variables (`$X`, `${X}`) in
 * provisioning files (labels, titles, contact point settings), not in a query's model (kept raw),
 * and only the braced `${X}` form in annotations, which therefore keep their `{{ $labels.x }}`
 * templates (pkg/services/provisioning/alerting/rules_types.go).
 */
import { DATASOURCE_UIDS } from '../datasource-uids.js';
import { alertAnnotations, alertGroupOrder, alertLabels, RUNBOOK_URL, type AlertDefinition, type PromDuration } from './definitions.js';

/** Which evaluator sends pages; the other one's rules are disabled (never both). */
export type Evaluator = 'prometheus' | 'grafana';

const PROMETHEUS_DATASOURCE_UID = DATASOURCE_UIDS.prometheus;
/** Grafana folder of the rules: the one the dashboards are provisioned into. */
const GRAFANA_FOLDER = 'mlmon';
const CONTACT_POINT_NAME = 'mlmon-alertmanager';
const CONTACT_POINT_UID = 'mlmon-alertmanager-forward';
/**
 * Expanded by Grafana from its environment (docker-compose.yml sets ALERTMANAGER_URL for the
 * Alertmanager data source already).
 */
const ALERTMANAGER_URL_SETTING = '${ALERTMANAGER_URL}';
/**
 * Grafana rule groups are evaluated on multiples of 10 s; 30 s is the nearest sensible to the 15 s of
 * Prometheus (the service caches its gauges for 5 s, the `for` durations are minutes).
 */
const GRAFANA_EVALUATION_INTERVAL = '30s';
/** Instant queries; the range only bounds the look-back of the query. */
const QUERY_RANGE_SECONDS = 600;

export type ThresholdType = 'gt' | 'lt' | 'eq' | 'ne' | 'gte' | 'lte';

export interface PrimaryComparison {
  readonly type: ThresholdType;
  readonly value: number;
}

const OPERATORS: Record<string, ThresholdType> = { '>': 'gt', '<': 'lt', '==': 'eq', '!=': 'ne', '>=': 'gte', '<=': 'lte' };

/**
 * The first filtering comparison of a PromQL expression: the one whose left-hand side is the alert's
 * value (every definition is written `<value> <op> <number> [and|or|unless …]`).
 */
export function primaryComparison(expr: string): PrimaryComparison {
  const match = /\s(>=|<=|==|!=|>|<)\s+(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?=\s|\)|$)/.exec(expr);
  if (!match) throw new Error(`no "<value> <op> <number>" comparison in ${JSON.stringify(expr)}`);
  return { type: OPERATORS[match[1]!]!, value: Number(match[2]) };
}

/** Prometheus templates use `$value`; Grafana's equivalent is the value of query A. */
export function toGrafanaTemplate(text: string): string {
  return text.replace(/\$value(?![A-Za-z0-9_])/g, '$values.A.Value');
}

/** Stable rule uid (Grafana: at most 40 of [A-Za-z0-9-_]). */
function ruleUid(name: string): string {
  const uid = `mlmon-${name.toLowerCase()}`;
  if (!/^[a-z0-9_-]{1,40}$/.test(uid)) throw new Error(`alert name ${name} gives an invalid Grafana uid ${uid}`);
  return uid;
}

function renderRule(definition: AlertDefinition, paused: boolean, runbookUrl: string): Record<string, unknown> {
  const comparison = primaryComparison(definition.expr);
  const annotations = Object.fromEntries(Object.entries(alertAnnotations(definition, runbookUrl)).map(([key, value]) => [key, toGrafanaTemplate(value)]));
  return {
    uid: ruleUid(definition.name),
    title: definition.name,
    condition: 'C',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: QUERY_RANGE_SECONDS, to: 0 },
        datasourceUid: PROMETHEUS_DATASOURCE_UID,
        model: {
          refId: 'A',
          datasource: { type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID },
          editorMode: 'code',
          expr: definition.expr,
          instant: true,
          range: false,
          intervalMs: 1000,
          maxDataPoints: 43200,
        },
      },
      {
        refId: 'C',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: {
          refId: 'C',
          datasource: { type: '__expr__', uid: '__expr__' },
          type: 'threshold',
          expression: 'A',
          conditions: [{ evaluator: { type: comparison.type, params: [comparison.value] } }],
        },
      },
    ],
    // An empty result is the healthy case, as in Prometheus.
    noDataState: 'OK',
    // Prometheus unreachable or the query broken: Grafana raises a DatasourceError alert.
    execErrState: 'Error',
    for: definition.for,
    annotations,
    labels: alertLabels(definition),
    isPaused: paused,
  };
}

export interface GrafanaRenderOptions {
  readonly alerts: readonly AlertDefinition[];
  /** `prometheus` (default): the Grafana rules are provisioned paused. */
  readonly evaluator?: Evaluator;
  readonly runbookUrl?: string;
}

export interface GrafanaProvisioningFiles {
  readonly rules: Record<string, unknown>;
  readonly contactPoints: Record<string, unknown>;
  readonly policies: Record<string, unknown>;
}

export function renderGrafanaProvisioning(options: GrafanaRenderOptions): GrafanaProvisioningFiles {
  const paused = (options.evaluator ?? 'prometheus') !== 'grafana';
  const runbookUrl = options.runbookUrl ?? RUNBOOK_URL;
  const groups = alertGroupOrder
    .map((name) => ({
      orgId: 1,
      name,
      folder: GRAFANA_FOLDER,
      interval: GRAFANA_EVALUATION_INTERVAL,
      rules: options.alerts.filter((definition) => definition.group === name).map((definition) => renderRule(definition, paused, runbookUrl)),
    }))
    .filter((group) => group.rules.length > 0);

  const contactPoints = {
    apiVersion: 1,
    contactPoints: [
      {
        orgId: 1,
        name: CONTACT_POINT_NAME,
        receivers: [
          {
            uid: CONTACT_POINT_UID,
            type: 'prometheus-alertmanager',
            // The external Alertmanager (provisioning/alertmanager/) routes by severity and pages.
            settings: { url: ALERTMANAGER_URL_SETTING },
            disableResolveMessage: false,
          },
        ],
      },
    ],
  };

  const policies = {
    apiVersion: 1,
    policies: [
      {
        orgId: 1,
        receiver: CONTACT_POINT_NAME,
        // Forward every alert on its own: grouping, inhibition and repeats belong to the external
        // Alertmanager, which groups by alertname and model_version itself.
        group_by: ['...'],
        group_wait: '0s',
        group_interval: '1m',
        // The forwarded alerts carry Grafana's EndsAt (a few evaluation intervals ahead): the
        // external Alertmanager resolves an alert that is not re-sent before then, so re-send often.
        repeat_interval: '1m',
      },
    ],
  };

  return { rules: { apiVersion: 1, groups }, contactPoints, policies };
}

/** Sum of a Prometheus duration in seconds (for comparisons in tests and checks). */
export function durationSeconds(duration: PromDuration | string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(duration);
  if (!match) throw new Error(`unsupported duration ${duration}`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
