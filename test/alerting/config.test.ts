/**
 * The committed Prometheus and Alertmanager configuration, checked by the real tools:
 * promtool check config/rules, amtool check-config, amtool's route tester and template renderer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeWithBinaries, locateBinaries } from './support/binaries.js';
import { runCommand } from './support/processes.js';
import { ALERTMANAGER_DIR, PROMETHEUS_DIR, RULES_DIR, alertmanagerConfigWithExampleReceivers } from './support/stack-config.js';
import { ALERTING_RULES_FILE, RECORDING_RULES_FILE } from '../../src/expose/alerting/generate.js';
import { alertDefinitions, recordingRules } from '../../src/expose/alerting/definitions.js';

const lookup = await locateBinaries();
const ALERTMANAGER_CONFIG = path.join(ALERTMANAGER_DIR, 'alertmanager.yml');

describeWithBinaries('alerting configuration (promtool, amtool)', lookup, (binaries) => {
  it('promtool accepts prometheus.yml and loads both generated rule files from it', async () => {
    const result = await runCommand(binaries.promtool, ['check', 'config', path.join(PROMETHEUS_DIR, 'prometheus.yml')]);
    const output = result.stdout + result.stderr;
    expect({ code: result.code, output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS: 2 rule files found') });
    expect(output).toContain(`SUCCESS: ${alertDefinitions.length} rules found`);
    expect(output).toContain(`SUCCESS: ${recordingRules.length} rules found`);
  });

  it('promtool check rules passes on each rule file (including its lint checks)', async () => {
    for (const file of [RECORDING_RULES_FILE, ALERTING_RULES_FILE]) {
      const result = await runCommand(binaries.promtool, ['check', 'rules', path.join(RULES_DIR, file)]);
      expect({ file, code: result.code, stderr: result.stderr }).toEqual({ file, code: 0, stderr: '' });
    }
  });

  it('amtool check-config accepts alertmanager.yml with its receivers and template', async () => {
    const result = await runCommand(binaries.amtool, ['check-config', ALERTMANAGER_CONFIG]);
    const output = result.stdout + result.stderr;
    expect({ code: result.code, output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    expect(output).toMatch(/2 inhibit rules/);
    expect(output).toMatch(/1 templates/);
  });

  it('the PagerDuty / Opsgenie / Slack receivers of receivers.example.yml are valid drop-ins', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'mlmon-am-example-'));
    try {
      const file = path.join(directory, 'alertmanager.yml');
      await writeFile(file, await alertmanagerConfigWithExampleReceivers());
      const result = await runCommand(binaries.amtool, ['check-config', file]);
      expect({ code: result.code, output: result.stdout + result.stderr }).toEqual({ code: 0, output: expect.stringContaining('2 receivers') });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it.each([
    [{ severity: 'page', alertname: 'MLPredictionMAEBad', model_version: 'v1' }, 'pager'],
    [{ severity: 'ticket', alertname: 'MLPredictionMAEAboveTarget', model_version: 'v1' }, 'ticket'],
    // Unknown severity: the ticket queue, never a silent drop and never a page.
    [{ alertname: 'SomethingUnlabelled' }, 'ticket'],
  ])('routes %j to the %s receiver', async (labels, receiver) => {
    const pairs = Object.entries(labels).map(([name, value]) => `${name}=${value}`);
    const result = await runCommand(binaries.amtool, ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_CONFIG}`, `--verify.receivers=${receiver}`, ...pairs]);
    expect({ code: result.code, receiver: result.stdout.trim() }).toEqual({ code: 0, receiver });
  });

  it('every alert definition routes to the receiver of its severity', async () => {
    const receiverOf = { page: 'pager', ticket: 'ticket' } as const;
    for (const definition of alertDefinitions) {
      const result = await runCommand(binaries.amtool, [
        'config', 'routes', 'test', `--config.file=${ALERTMANAGER_CONFIG}`,
        `alertname=${definition.name}`, `severity=${definition.severity}`, `signal=${definition.signal}`,
      ]);
      expect({ alert: definition.name, receiver: result.stdout.trim() }).toEqual({ alert: definition.name, receiver: receiverOf[definition.severity] });
    }
  });

  it('the notification template renders (amtool template render)', async () => {
    const result = await runCommand(binaries.amtool, [
      'template', 'render',
      `--template.glob=${path.join(ALERTMANAGER_DIR, 'templates', '*.tmpl')}`,
      '--template.text={{ template "mlmon.title" . }}|{{ template "mlmon.text" . }}',
    ]);
    // amtool renders its own sample data; what matters is that every template parses and executes.
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\[[A-Z]+\]/);
  });
});
