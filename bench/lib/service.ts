/**
 * Where the service under test lives, and its built modules. The bench measures the built
 * service (`npm run build` → dist/), never the TypeScript sources: the modules below are imported
 * at run time from `<service root>/dist`, typed against src/ (type-only imports, erased).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type EmbeddedModule = typeof import('../../src/db/embedded.js');
type MigrateModule = typeof import('../../src/db/migrate.js');

/** The repository root: the nearest folder above this file whose package.json is mlmon's. */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'mlmon') return dir;
      } catch {
        // not a JSON manifest: keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();

/**
 * The service under test: the repo itself by default, or another checkout of it (e.g. a snapshot
 * of a commit built on its own, so that concurrent edits of dist/ cannot change a long run).
 */
export function serviceRoot(): string {
  return path.resolve(process.env.MLMON_BENCH_SERVICE_ROOT ?? REPO_ROOT);
}

export function distFile(relative: string): string {
  const file = path.join(serviceRoot(), 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: build the service first (npm run build)`);
  return file;
}

async function load<T>(relative: string): Promise<T> {
  return (await import(pathToFileURL(distFile(relative)).href)) as T;
}

type FreePortModule = typeof import('../../src/server/free-port.js');

/** A loopback port free right now, found as the service under test finds its own. */
export async function freePort(): Promise<number> {
  return (await load<FreePortModule>('server/free-port.js')).freePort();
}

export interface ServiceModules {
  embedded: EmbeddedModule;
  migrate: MigrateModule;
}

export async function serviceModules(): Promise<ServiceModules> {
  const [embedded, migrate] = await Promise.all([load<EmbeddedModule>('db/embedded.js'), load<MigrateModule>('db/migrate.js')]);
  return { embedded, migrate };
}
