/**
 * Writes dashboards/*.json from the TypeScript definitions (`npm run dashboards`, i.e.
 * `node dist/expose/dashboards/generate.js`). `--check` writes nothing and exits 1 when a committed
 * file differs from the generator's output, is missing, or is a JSON file it does not generate. An
 * optional argument overrides the output directory.
 */
import { fileURLToPath } from 'node:url';
import { parseArgsOrUsage, runIfEntryPoint, UsageError } from '../../cli/entry-point.js';
import { staleFiles, writeGeneratedFiles, type GeneratedFile } from '../../cli/generated-files.js';
import { buildDashboards, renderDashboard } from './index.js';

/** The repository's dashboards/ (src/expose/dashboards and dist/expose/dashboards are both 3 levels down). */
export const DEFAULT_DASHBOARDS_DIRECTORY = fileURLToPath(new URL('../../../dashboards/', import.meta.url));

/** The dashboards as the files of dashboards/. */
export function renderDashboardFiles(): GeneratedFile[] {
  return buildDashboards().map(({ fileName, dashboard }) => ({ fileName, content: renderDashboard(dashboard) }));
}

const USAGE = 'usage: generate.js [--check] [DIR] [--help]   (DIR: default dashboards/ of this checkout)';

async function main(args: string[]): Promise<number> {
  const parsed = parseArgsOrUsage({ args, options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }, USAGE);
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length > 1) throw new UsageError(`one output directory at most\n${USAGE}`);
  const check = parsed.values.check ?? false;
  const directory = parsed.positionals[0] ?? DEFAULT_DASHBOARDS_DIRECTORY;
  if (check) {
    const stale = await staleFiles(directory, renderDashboardFiles(), '.json');
    if (stale.length > 0) {
      process.stderr.write(`dashboards in ${directory} differ from the generator: ${stale.join(', ')}. Run \`npm run dashboards\` and commit the JSON\n`);
      return 1;
    }
    process.stdout.write(`dashboards in ${directory} match the generator\n`);
    return 0;
  }
  for (const { path: target, written } of await writeGeneratedFiles(directory, renderDashboardFiles())) {
    process.stdout.write(`${written ? 'wrote' : 'unchanged'} ${target}\n`);
  }
  return 0;
}

runIfEntryPoint(import.meta.url, 'dashboards', main);
