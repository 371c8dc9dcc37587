import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { describeWhenInstalled } from '../../support/required-tools.js';

/** The real Prometheus tools the alerting tests run. */
export interface AlertingBinaries {
  prometheus: string;
  promtool: string;
  alertmanager: string;
  amtool: string;
}

/** Names to look for on PATH; Debian renames the Alertmanager binary. */
const CANDIDATES: Record<keyof AlertingBinaries, readonly string[]> = {
  prometheus: ['prometheus'],
  promtool: ['promtool'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'],
  amtool: ['amtool'],
};

export const INSTALL_HINT =
  'Install them with: sudo apt-get update && sudo apt-get install -y prometheus prometheus-alertmanager ' +
  '(Debian/Ubuntu), or put prometheus, promtool, alertmanager and amtool from https://prometheus.io/download/ on PATH.';

async function onPath(name: string): Promise<string | undefined> {
  for (const directory of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(directory, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface BinaryLookup {
  binaries: Partial<AlertingBinaries>;
  /** Tools not found, by the names tried. */
  missing: string[];
}

export async function locateBinaries(): Promise<BinaryLookup> {
  const binaries: Partial<AlertingBinaries> = {};
  const missing: string[] = [];
  for (const [tool, names] of Object.entries(CANDIDATES) as [keyof AlertingBinaries, readonly string[]][]) {
    let found: string | undefined;
    for (const name of names) {
      found ??= await onPath(name);
    }
    if (found) binaries[tool] = found;
    else missing.push(names.join(' or '));
  }
  return { binaries, missing };
}

/** `describe` for suites that need the real binaries (see describeWhenInstalled). */
export function describeWithBinaries(
  title: string,
  lookup: BinaryLookup,
  body: (binaries: AlertingBinaries) => void,
): void {
  describeWhenInstalled(title, lookup.missing, INSTALL_HINT, () => body(lookup.binaries as AlertingBinaries));
}
