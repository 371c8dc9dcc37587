/**
 * End to end on loopback with the real binaries: the mlmon service (on the test PostgreSQL), a
 * real Prometheus scraping it every second with the committed rules (only `for:` shortened), a
 * real Alertmanager with the committed routes and inhibitions (short group_wait), and a receiver
 * in this process standing in for the webhook, PagerDuty, Opsgenie and Slack endpoints.
 *
 * Healthy traffic: nothing is notified. An incident (actuals 10 min off): the MAE page arrives
 * with the right labels and rendered text. Corrected actuals: a resolved notification follows.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alertDefinitions, recordingRules } from '../../src/expose/alerting/definitions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, startServiceProcess, type RunningService } from '../support/service.js';
import { describeWithBinaries, locateBinaries } from './support/binaries.js';
import { startDaemon, stopAll, type Daemon } from './support/processes.js';
import { alertmanagerConfigFor, prometheusConfigFor, rulesWithShortFor } from './support/stack-config.js';
import { startWebhookReceiver, webhookAlerts, type ReceivedNotification, type WebhookReceiver } from './support/webhook-receiver.js';

const lookup = await locateBinaries();

/** Scrape and evaluation interval of the test Prometheus. */
const INTERVAL = '1s';
/** Replaces every alert's `for:`; still more than one evaluation, so `for:` is exercised. */
const SHORT_FOR = '3s';
/** Bounds for each wait; the whole suite stays within a few minutes even when it fails. */
const NOTIFICATION_TIMEOUT_MS = 60_000;
const SCRAPE_TIMEOUT_MS = 30_000;
/** Long enough after the data is scraped for any alert to pass `for:`, be sent and be grouped. */
const QUIET_PERIOD_MS = 10_000;

const STABLE_VERSION = 'stable-v1';
const INCIDENT_VERSION = 'incident-v2';
const STABLE_COUNT = 30;
/** Above the 50-per-day guard too, so the day-window tickets fire and inhibition is exercised. */
const INCIDENT_COUNT = 60;

interface Prediction {
  booking_id: number;
  predicted_delay_minutes: number;
}

/** Predicted delays spread over 2..14 min, so R² is defined. */
function predictions(firstBookingId: number, count: number): Prediction[] {
  return Array.from({ length: count }, (_, index) => ({ booking_id: firstBookingId + index, predicted_delay_minutes: 2 + (index % 13) }));
}

const stable = predictions(1_000, STABLE_COUNT);
const incident = predictions(2_000, INCIDENT_COUNT);

describeWithBinaries('alerting end to end (mlmon -> Prometheus -> Alertmanager -> receivers)', lookup, (binaries) => {
  let database: TestDatabase | undefined;
  let service: RunningService | undefined;
  let receiver: WebhookReceiver | undefined;
  let prometheus: Daemon | undefined;
  let alertmanager: Daemon | undefined;
  let workDirectory: string | undefined;
  let prometheusUrl = '';
  let alertmanagerUrl = '';
  let serviceAddress = '';
  /** PagerDuty correlates trigger and resolve events by this key. */
  let pagerDutyDedupKey = '';

  async function api(method: string, route: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${service!.baseUrl}/api/ml-monitoring${route}`, {
      method,
      headers: { authorization: `Bearer ${service!.ingestToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} -> ${response.status}: ${text}`);
    return JSON.parse(text) as unknown;
  }

  async function logPredictions(version: string, list: readonly Prediction[]): Promise<void> {
    const body = list.map((p) => ({
      ...p,
      confidence: 0.8,
      risk_level: 'medium',
      model_version: version,
      prediction_time_ms: 40,
      feature_flag_enabled: true,
      traffic_percentage: 25,
    }));
    await expect(api('POST', '/predictions', body)).resolves.toEqual({ accepted: list.length, duplicates: 0 });
  }

  async function postActuals(list: readonly Prediction[], actualOf: (p: Prediction, index: number) => number): Promise<void> {
    const body = list.map((p, index) => ({ booking_id: p.booking_id, actual_delay_minutes: actualOf(p, index) }));
    await expect(api('POST', '/actuals', body)).resolves.toMatchObject({ updated: list.length });
  }

  async function prometheusApi<T>(route: string): Promise<T> {
    const response = await fetch(`${prometheusUrl}/api/v1/${route}`);
    const payload = (await response.json()) as { status: string; data: T; error?: string };
    if (payload.status !== 'success') throw new Error(`Prometheus ${route}: ${payload.error}`);
    return payload.data;
  }

  async function waitForScrapedValue(query: string, expected: number): Promise<void> {
    const deadline = Date.now() + SCRAPE_TIMEOUT_MS;
    let last = 'no series';
    while (Date.now() < deadline) {
      const data = await prometheusApi<{ result: { value: [number, string] }[] }>(`query?query=${encodeURIComponent(query)}`);
      last = data.result.map((sample) => sample.value[1]).join(', ') || 'no series';
      if (data.result.length === 1 && Number(data.result[0]!.value[1]) === expected) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${query} did not reach ${expected} within ${SCRAPE_TIMEOUT_MS} ms (last: ${last})\n${prometheus?.output() ?? ''}`);
  }

  interface PrometheusAlert {
    labels: Record<string, string>;
    state: 'pending' | 'firing';
  }
  const prometheusAlerts = async () => (await prometheusApi<{ alerts: PrometheusAlert[] }>('alerts')).alerts;

  const isAlert = (alertname: string, version: string, status: 'firing' | 'resolved') => (notification: ReceivedNotification, integration: string) =>
    notification.path === integration &&
    webhookAlerts(notification).some((alert) => alert.status === status && alert.labels.alertname === alertname && alert.labels.model_version === version);

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startServiceProcess({ databaseUrl: database.url, env: { MLMON_METRICS_CACHE_SECONDS: '1' } });
    serviceAddress = new URL(service.baseUrl).host;
    receiver = await startWebhookReceiver();
    workDirectory = await mkdtemp(path.join(tmpdir(), 'mlmon-alerting-e2e-'));

    const rulesDirectory = path.join(workDirectory, 'rules');
    await mkdir(rulesDirectory);
    const ruleFiles = await rulesWithShortFor(SHORT_FOR);
    expect(ruleFiles.reduce((sum, file) => sum + file.shortened, 0)).toBe(alertDefinitions.length);
    for (const file of ruleFiles) await writeFile(path.join(rulesDirectory, file.fileName), file.content);

    const [prometheusPort, alertmanagerPort] = [await freePort(), await freePort()];
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    alertmanagerUrl = `http://127.0.0.1:${alertmanagerPort}`;

    const alertmanagerConfig = path.join(workDirectory, 'alertmanager.yml');
    await writeFile(alertmanagerConfig, await alertmanagerConfigFor({ receiverUrl: receiver.url, groupWait: '1s', groupInterval: '1s' }));
    alertmanager = await startDaemon('alertmanager', binaries.alertmanager, [
      `--config.file=${alertmanagerConfig}`,
      `--storage.path=${path.join(workDirectory, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
      // Empty: no HA gossip, which would otherwise listen on 0.0.0.0:9094.
      '--cluster.listen-address=',
    ], `${alertmanagerUrl}/-/ready`);

    const prometheusConfig = path.join(workDirectory, 'prometheus.yml');
    await writeFile(prometheusConfig, await prometheusConfigFor({
      ruleFilesGlob: path.join(rulesDirectory, '*.yml'),
      prometheusAddress: `127.0.0.1:${prometheusPort}`,
      serviceAddress,
      alertmanagerAddress: `127.0.0.1:${alertmanagerPort}`,
      interval: INTERVAL,
    }));
    prometheus = await startDaemon('prometheus', binaries.prometheus, [
      `--config.file=${prometheusConfig}`,
      `--storage.tsdb.path=${path.join(workDirectory, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ], `${prometheusUrl}/-/ready`);

    // The ML rollout is on, as in production: the predictions-stalled alerts are armed.
    await api('PUT', '/feature-flags', { ml_enabled: true, ml_traffic_percentage: 25 });
  }, 120_000);

  afterAll(async () => {
    // Each step runs even if an earlier one throws: no process may outlive the suite.
    const steps: (() => Promise<unknown> | undefined)[] = [
      () => stopAll([prometheus, alertmanager]),
      () => receiver?.close(),
      () => service?.stop(),
      () => database?.drop(),
      () => (workDirectory ? rm(workDirectory, { recursive: true, force: true }) : undefined),
    ];
    const errors: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }, 60_000);

  it('loads every generated rule and evaluates it without error', async () => {
    const deadline = Date.now() + SCRAPE_TIMEOUT_MS;
    type Rule = { name: string; type: 'alerting' | 'recording'; health: string; lastError?: string };
    let rules: Rule[] = [];
    // Health is "unknown" until the first evaluation.
    while (Date.now() < deadline) {
      rules = (await prometheusApi<{ groups: { rules: Rule[] }[] }>('rules')).groups.flatMap((group) => group.rules);
      if (rules.length > 0 && rules.every((rule) => rule.health !== 'unknown')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(rules.filter((rule) => rule.type === 'alerting').map((rule) => rule.name).sort()).toEqual(alertDefinitions.map((d) => d.name).sort());
    expect(rules.filter((rule) => rule.type === 'recording')).toHaveLength(recordingRules.length);
    expect(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`)).toEqual([]);
  }, 60_000);

  it('healthy traffic notifies nobody', async () => {
    await logPredictions(STABLE_VERSION, stable);
    // Actuals within half a minute of the prediction: MAE well under 1 min, accuracy 100 %.
    await postActuals(stable, (p, index) => p.predicted_delay_minutes + ((index % 5) - 2) * 0.25);
    await waitForScrapedValue(`ml_prediction_window_labeled{job="mlmon",model_version="${STABLE_VERSION}",window="1h"}`, STABLE_COUNT);
    await new Promise((resolve) => setTimeout(resolve, QUIET_PERIOD_MS));

    expect(await prometheusAlerts()).toEqual([]);
    expect(receiver!.notifications()).toEqual([]);
  }, 90_000);

  it('an incident of 10-minute errors pages with the right labels and text; tickets about the same thing are inhibited', async () => {
    const startedAt = Date.now();
    await logPredictions(INCIDENT_VERSION, incident);
    await postActuals(incident, (p) => p.predicted_delay_minutes + 10);

    const maePage = isAlert('MLPredictionMAEBad', INCIDENT_VERSION, 'firing');
    const page = await receiver!.waitFor('MAE page (webhook)', (n) => maePage(n, '/pager/webhook'), NOTIFICATION_TIMEOUT_MS);
    console.log(`alerting e2e: page received ${page.receivedAtMs - startedAt} ms after the incident was ingested`);

    const alert = webhookAlerts(page).find((a) => a.labels.alertname === 'MLPredictionMAEBad')!;
    expect(alert.labels).toEqual({
      alertname: 'MLPredictionMAEBad',
      severity: 'page',
      signal: 'mae',
      model_version: INCIDENT_VERSION,
      job: 'mlmon',
      instance: serviceAddress,
    });
    expect(alert.annotations).toMatchObject({
      value: '10m 0s',
      threshold: '> 5 min',
      summary: `Prediction MAE 10m 0s for model ${INCIDENT_VERSION} (page above 5 min)`,
      description: expect.stringContaining(`model ${INCIDENT_VERSION} over the last 1h (the last 24h while 1h has fewer than 20 labelled predictions) is 10m 0s`),
      runbook_url: expect.stringMatching(/docs\/runbook\.md#mae-too-high$/),
    });
    expect((page.body as { groupLabels: unknown }).groupLabels).toEqual({ alertname: 'MLPredictionMAEBad', model_version: INCIDENT_VERSION });

    // The documented PagerDuty receiver, pointed at the test receiver, renders the template.
    const pagerDuty = await receiver!.waitFor(
      'MAE page (PagerDuty event)',
      (n) => n.path === '/pager/pagerduty' && JSON.stringify(n.body).includes('MLPredictionMAEBad'),
      NOTIFICATION_TIMEOUT_MS,
    );
    const event = pagerDuty.body as { routing_key: string; dedup_key: string; event_action: string; payload: { summary: string; custom_details: { alerts: string } } };
    pagerDutyDedupKey = event.dedup_key;
    expect(event.routing_key).toBe('e2e-routing-key');
    expect(event.event_action).toBe('trigger');
    expect(event.payload.summary).toBe(`[FIRING:1] MLPredictionMAEBad · model ${INCIDENT_VERSION} (page)`);
    expect(event.payload.custom_details.alerts).toContain('• Value: 10m 0s · threshold: > 5 min');
    // No `window` label on quality alerts (the judged window may change while the alert fires).
    expect(event.payload.custom_details.alerts).toContain(`• Model version: ${INCIDENT_VERSION}\n`);
    expect(event.payload.custom_details.alerts).toMatch(/• Runbook: \S+docs\/runbook\.md#mae-too-high/);
    await receiver!.waitFor('MAE page (Opsgenie)', (n) => n.path === '/pager/opsgenie/v2/alerts' && JSON.stringify(n.body).includes('MLPredictionMAEBad'), NOTIFICATION_TIMEOUT_MS);

    // A ticket without a page for its signal reaches the ticket receiver, and its Slack message.
    const anomalyTicket = isAlert('MLPredictionAnomalyRateHigh', INCIDENT_VERSION, 'firing');
    await receiver!.waitFor('anomaly ticket (webhook)', (n) => anomalyTicket(n, '/ticket/webhook'), NOTIFICATION_TIMEOUT_MS);
    const slack = await receiver!.waitFor('anomaly ticket (Slack)', (n) => n.path === '/ticket/slack' && JSON.stringify(n.body).includes('MLPredictionAnomalyRateHigh'), NOTIFICATION_TIMEOUT_MS);
    const slackText = JSON.stringify(slack.body);
    expect(slackText).toContain('Value: 100% · threshold: > 10%');
    expect(slackText).toContain(`Model version: ${INCIDENT_VERSION}`);

    // The MAE ticket fires in Prometheus, but Alertmanager holds it back behind the MAE page.
    const firing = await prometheusAlerts();
    expect(firing).toContainEqual(expect.objectContaining({ state: 'firing', labels: expect.objectContaining({ alertname: 'MLPredictionMAEAboveTarget', model_version: INCIDENT_VERSION }) }));
    const inhibited = (await (await fetch(`${alertmanagerUrl}/api/v2/alerts?filter=${encodeURIComponent('alertname="MLPredictionMAEAboveTarget"')}`)).json()) as { status: { state: string; inhibitedBy: string[] } }[];
    expect(inhibited).toHaveLength(1);
    expect(inhibited[0]!.status.state).toBe('suppressed');
    expect(inhibited[0]!.status.inhibitedBy).toHaveLength(1);

    const notified = receiver!.notifications().flatMap((n) => webhookAlerts(n).map((a) => `${n.path} ${a.labels.alertname} ${a.labels.model_version ?? ''}`));
    expect(notified.filter((line) => line.includes(STABLE_VERSION))).toEqual([]);
    expect(notified.filter((line) => /^\/ticket\/webhook (MLPredictionMAEAboveTarget|MLPredictionAccuracyBelowTarget|MLPredictionR2BelowTarget) /.test(line))).toEqual([]);
  }, 120_000);

  it('corrected actuals resolve the page', async () => {
    const fixedAt = Date.now();
    // Same booking ids, actual = predicted: the service replaces each prediction's contribution.
    await postActuals(incident, (p) => p.predicted_delay_minutes);

    const maeResolved = isAlert('MLPredictionMAEBad', INCIDENT_VERSION, 'resolved');
    const resolved = await receiver!.waitFor('MAE page resolved (webhook)', (n) => maeResolved(n, '/pager/webhook'), NOTIFICATION_TIMEOUT_MS);
    console.log(`alerting e2e: resolved notification ${resolved.receivedAtMs - fixedAt} ms after the corrected actuals`);
    expect((resolved.body as { status: string }).status).toBe('resolved');

    expect(pagerDutyDedupKey).not.toBe('');
    await receiver!.waitFor(
      'MAE page resolved (PagerDuty event)',
      (n) => {
        const event = n.body as { event_action?: string; dedup_key?: string };
        return n.path === '/pager/pagerduty' && event.event_action === 'resolve' && event.dedup_key === pagerDutyDedupKey;
      },
      NOTIFICATION_TIMEOUT_MS,
    );
  }, 120_000);
});
