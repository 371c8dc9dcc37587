/**
 * Runs the promtool unit tests (test/alerting/*.rules-test.yml) against the committed rule files,
 * and checks that they cover every alert: each one seen firing with its severity and signal, and
 * each one asserted silent somewhere (healthy series, sample guard or inside its `for:`).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { alertDefinitions } from '../../src/expose/alerting/definitions.js';
import { describeWithBinaries, locateBinaries } from './support/binaries.js';
import { runCommand } from './support/processes.js';

const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));
const lookup = await locateBinaries();

interface ExpectedAlert {
  exp_labels?: Record<string, string>;
  exp_annotations?: Record<string, string>;
}
interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: ExpectedAlert[] | null;
}
interface TestGroup {
  name?: string;
  alert_rule_test?: AlertRuleTest[];
}

async function promtoolTestFiles(): Promise<string[]> {
  return (await readdir(TEST_DIR)).filter((name) => name.endsWith('.rules-test.yml')).sort();
}

async function alertRuleTests(): Promise<AlertRuleTest[]> {
  const cases: AlertRuleTest[] = [];
  for (const file of await promtoolTestFiles()) {
    const document = parse(await readFile(path.join(TEST_DIR, file), 'utf8')) as { tests: TestGroup[] };
    for (const group of document.tests) cases.push(...(group.alert_rule_test ?? []));
  }
  return cases;
}

describe('promtool unit-test coverage of the alert definitions', () => {
  it.each(alertDefinitions.map((definition) => [definition.name, definition] as const))(
    '%s is asserted firing (with severity, signal and runbook) and asserted silent',
    async (name, definition) => {
      const cases = (await alertRuleTests()).filter((testCase) => testCase.alertname === name);
      const firing = cases.flatMap((testCase) => testCase.exp_alerts ?? []);
      const silent = cases.filter((testCase) => (testCase.exp_alerts ?? []).length === 0);
      expect(firing.length).toBeGreaterThan(0);
      expect(silent.length).toBeGreaterThan(0);
      for (const alert of firing) {
        expect(alert.exp_labels).toMatchObject({ severity: definition.severity, signal: definition.signal });
        expect(alert.exp_annotations?.runbook_url).toMatch(new RegExp(`#${definition.runbookAnchor}$`));
        expect(alert.exp_annotations?.threshold).toBe(definition.thresholdText);
      }
    },
  );
});

describeWithBinaries('promtool test rules', lookup, (binaries) => {
  it('every *.rules-test.yml passes against the committed rule files', async () => {
    const files = await promtoolTestFiles();
    expect(files.length).toBeGreaterThanOrEqual(4);
    const result = await runCommand(binaries.promtool, ['test', 'rules', ...files], { cwd: TEST_DIR });
    const output = result.stdout + result.stderr;
    // promtool prints "Unit Testing: <file>" then SUCCESS or the failing expectations.
    expect({ code: result.code, output }).toEqual({ code: 0, output: expect.any(String) });
    expect(output.match(/SUCCESS/g)?.length).toBe(files.length);
    const groups = (await Promise.all(files.map(async (file) => (parse(await readFile(path.join(TEST_DIR, file), 'utf8')) as { tests: TestGroup[] }).tests.length))).reduce((a, b) => a + b, 0);
    console.log(`promtool: ${files.length} files, ${groups} test groups, ${(await alertRuleTests()).length} alert expectations passed`);
  });
});
