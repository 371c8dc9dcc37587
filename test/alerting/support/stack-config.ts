/**
 * Test copies of the committed Prometheus and Alertmanager configuration. Each function starts
 * from the committed file and changes only what a loopback test must: addresses, intervals, `for:`
 * durations and receiver endpoints. Everything else (rules, routes, inhibitions, templates) is the
 * production configuration.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PROMETHEUS_DIR = path.join(REPO_ROOT, 'provisioning/prometheus');
export const RULES_DIR = path.join(PROMETHEUS_DIR, 'rules');
export const ALERTMANAGER_DIR = path.join(REPO_ROOT, 'provisioning/alertmanager');

type Yaml = Record<string, unknown>;

function asRecord(value: unknown, what: string): Yaml {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not a mapping`);
  return value as Yaml;
}

function asList(value: unknown, what: string): Yaml[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value.map((item, index) => asRecord(item, `${what}[${index}]`));
}

export interface RuleFileCopy {
  fileName: string;
  content: string;
  /** Alerting rules whose `for:` was replaced. */
  shortened: number;
}

/** The committed rule files with every alert's `for:` set to `forDuration`, nothing else touched. */
export async function rulesWithShortFor(forDuration: string): Promise<RuleFileCopy[]> {
  const names = (await readdir(RULES_DIR)).filter((name) => name.endsWith('.yml')).sort();
  const copies: RuleFileCopy[] = [];
  for (const fileName of names) {
    const document = asRecord(parse(await readFile(path.join(RULES_DIR, fileName), 'utf8')), fileName);
    let shortened = 0;
    for (const group of asList(document.groups, `${fileName} groups`)) {
      for (const rule of asList(group.rules, `${fileName} rules`)) {
        if (typeof rule.alert === 'string' && rule.for !== undefined) {
          rule.for = forDuration;
          shortened += 1;
        }
      }
    }
    copies.push({ fileName, content: stringify(document, { lineWidth: 0 }), shortened });
  }
  return copies;
}

export interface PrometheusTestSetup {
  ruleFilesGlob: string;
  prometheusAddress: string;
  serviceAddress: string;
  alertmanagerAddress: string;
  interval: string;
}

/** The committed prometheus.yml pointed at loopback, with fast scrape and evaluation. */
export async function prometheusConfigFor(setup: PrometheusTestSetup): Promise<string> {
  const config = asRecord(parse(await readFile(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')), 'prometheus.yml');
  const global = asRecord(config.global, 'global');
  global.scrape_interval = setup.interval;
  global.evaluation_interval = setup.interval;
  config.rule_files = [setup.ruleFilesGlob];

  const alertmanagers = asList(asRecord(config.alerting, 'alerting').alertmanagers, 'alertmanagers');
  if (alertmanagers.length !== 1) throw new Error('expected exactly one alertmanagers entry');
  alertmanagers[0]!.static_configs = [{ targets: [setup.alertmanagerAddress] }];

  const targetsByJob: Record<string, string> = { prometheus: setup.prometheusAddress, mlmon: setup.serviceAddress };
  const jobs = asList(config.scrape_configs, 'scrape_configs');
  for (const [job, target] of Object.entries(targetsByJob)) {
    const scrape = jobs.find((candidate) => candidate.job_name === job);
    if (!scrape) throw new Error(`prometheus.yml has no scrape job "${job}"`);
    scrape.static_configs = [{ targets: [target] }];
  }
  return stringify(config, { lineWidth: 0 });
}

export interface AlertmanagerTestSetup {
  /** Base URL of the test's receiver; each integration posts under `/<receiver>/<integration>`. */
  receiverUrl: string;
  groupWait: string;
  groupInterval: string;
}

/** Replaces secret-file settings of the example integrations with inline values and loopback URLs. */
function wireExampleIntegrations(receiver: Yaml, base: string): void {
  for (const integration of asList(receiver.pagerduty_configs ?? [], 'pagerduty_configs')) {
    delete integration.routing_key_file;
    integration.routing_key = 'e2e-routing-key';
    integration.url = `${base}/pagerduty`;
  }
  for (const integration of asList(receiver.opsgenie_configs ?? [], 'opsgenie_configs')) {
    delete integration.api_key_file;
    integration.api_key = 'e2e-api-key';
    integration.api_url = `${base}/opsgenie/`;
  }
  for (const integration of asList(receiver.slack_configs ?? [], 'slack_configs')) {
    delete integration.api_url_file;
    integration.api_url = `${base}/slack`;
  }
}

/**
 * The committed alertmanager.yml with its placeholder webhooks wired to the test receiver, the
 * PagerDuty/Opsgenie/Slack integrations of receivers.example.yml added (pointed at the same
 * receiver), absolute template paths and short grouping timers.
 */
export async function alertmanagerConfigFor(setup: AlertmanagerTestSetup): Promise<string> {
  const config = asRecord(parse(await readFile(path.join(ALERTMANAGER_DIR, 'alertmanager.yml'), 'utf8')), 'alertmanager.yml');
  const examples = asRecord(parse(await readFile(path.join(ALERTMANAGER_DIR, 'receivers.example.yml'), 'utf8')), 'receivers.example.yml');

  config.templates = asTemplatePaths(config.templates);

  const route = asRecord(config.route, 'route');
  route.group_wait = setup.groupWait;
  route.group_interval = setup.groupInterval;
  for (const child of asList(route.routes ?? [], 'routes')) {
    delete child.group_wait;
    delete child.group_interval;
  }

  const exampleReceivers = asList(examples.receivers, 'example receivers');
  config.receivers = asList(config.receivers, 'receivers').map((receiver) => {
    const name = String(receiver.name);
    const base = `${setup.receiverUrl}/${name}`;
    const webhooks = asList(receiver.webhook_configs ?? [], `${name} webhook_configs`).map((webhook) => ({ ...webhook, url: `${base}/webhook` }));
    const example = exampleReceivers.find((candidate) => candidate.name === name);
    const wired: Yaml = { ...(example ?? {}), ...receiver, webhook_configs: webhooks };
    wireExampleIntegrations(wired, base);
    return wired;
  });
  return stringify(config, { lineWidth: 0 });
}

/** Template globs are relative to the committed config's directory; the copy lives elsewhere. */
function asTemplatePaths(templates: unknown): string[] {
  if (!Array.isArray(templates)) throw new Error('alertmanager.yml has no templates list');
  return templates.map((template) => (path.isAbsolute(String(template)) ? String(template) : path.join(ALERTMANAGER_DIR, String(template))));
}

/** The committed alertmanager.yml with the example receivers in place of the placeholders. */
export async function alertmanagerConfigWithExampleReceivers(): Promise<string> {
  const config = asRecord(parse(await readFile(path.join(ALERTMANAGER_DIR, 'alertmanager.yml'), 'utf8')), 'alertmanager.yml');
  const examples = asRecord(parse(await readFile(path.join(ALERTMANAGER_DIR, 'receivers.example.yml'), 'utf8')), 'receivers.example.yml');
  config.templates = asTemplatePaths(config.templates);
  config.receivers = examples.receivers;
  return stringify(config, { lineWidth: 0 });
}
