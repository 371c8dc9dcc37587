/**
 * Writes dashboards/*.json from the TypeScript definitions (`npm run dashboards`, i.e.
 * `node dist/expose/dashboards/generate.js`). `--check` writes nothing and exits 1 when a committed
 * file differs from the generator's output. An optional argument overrides the output directory.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgsOrUsage, runIfEntryPoint, UsageError } from '../../cli/entry-point.js';
import { buildDashboards, renderDashboard } from './index.js';

/** The repository's dashboards/ (src/expose/dashboards and dist/expose/dashboards are both 3 levels down). */
export const DEFAULT_DASHBOARDS_DIRECTORY = fileURLToPath(new URL('../../../dashboards/', import.meta.url));

export interface FileResult {
  fileName: string;
  status: 'unchanged' | 'written' | 'differs';
}

export async function generateDashboards(directory = DEFAULT_DASHBOARDS_DIRECTORY, check = false): Promise<FileResult[]> {
  if (!check) await mkdir(directory, { recursive: true });
  const results: FileResult[] = [];
  for (const { fileName, dashboard } of buildDashboards()) {
    const file = path.join(directory, fileName);
    const wanted = renderDashboard(dashboard);
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current === wanted) results.push({ fileName, status: 'unchanged' });
    else if (check) results.push({ fileName, status: 'differs' });
    else {
      await writeFile(file, wanted);
      results.push({ fileName, status: 'written' });
    }
  }
  return results;
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
  const results = await generateDashboards(directory, check);
  for (const r of results) process.stdout.write(`${r.status.padEnd(9)} ${path.join(directory, r.fileName)}\n`);
  if (results.some((r) => r.status === 'differs')) {
    process.stderr.write('dashboards differ from the generator: run `npm run dashboards` and commit the JSON\n');
    return 1;
  }
  return 0;
}

runIfEntryPoint(import.meta.url, 'dashboards', main);
