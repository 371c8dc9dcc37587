import { spawnSync } from 'node:child_process';

const isCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/**
 * `describe` for suites that need software installed on the machine (Prometheus, a packaged
 * PostgreSQL). When some is missing: in CI the suite fails, since a check must never pass by not
 * running; elsewhere it is skipped with a loud warning that says how to install it.
 */
export function describeWhenInstalled(title: string, missing: string[], installHint: string, body: () => void): void {
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const message = `Missing ${missing.join(', ')}. ${installHint}`;
  if (isCi()) {
    describe(title, () => {
      it('has the software it needs installed (required when CI=true)', () => {
        throw new Error(message);
      });
    });
    return;
  }
  const banner = '!'.repeat(100);
  console.warn(`\n${banner}\n  SKIPPING "${title}": ${message}\n${banner}\n`);
  describe.skip(title, body);
}

/** Whether `command` runs on this machine (`command --version` succeeds). */
export const isInstalled = (command: string): boolean => spawnSync(command, ['--version'], { encoding: 'utf8' }).status === 0;

export const PROMTOOL_HINT =
  'Install it with: sudo apt-get install -y prometheus (Debian/Ubuntu; the package provides promtool), or put promtool from https://prometheus.io/download/ on PATH.';
