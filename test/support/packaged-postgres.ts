/**
 * A PostgreSQL server from the distribution's packages (Debian's `postgresql`), started for one
 * suite. Unlike the embedded server it is built with LLVM, so it can JIT-compile queries, as
 * the servers users point DATABASE_URL at and the Docker image of docker-compose.yml do.
 */
import { execFile } from 'node:child_process';
import { access, chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/server/free-port.js';

const run = promisify(execFile);
const PACKAGES = '/usr/lib/postgresql';

export const PACKAGED_POSTGRES_HINT = 'Install it with: sudo apt-get install -y postgresql (Debian/Ubuntu; the server package includes its LLVM JIT).';
export const PACKAGED_POSTGRES_WANTED = `a PostgreSQL server package with LLVM JIT under ${PACKAGES}`;

export interface PackagedPostgres {
  version: number;
  bin: string;
}

export interface RunningPackagedPostgres {
  /** Superuser URL of the server's `postgres` database. */
  url: string;
  stop(): Promise<void>;
}

const exists = (file: string) => access(file).then(() => true, () => false);

/** The newest installed server that can JIT (its llvmjit.so is present). */
export async function findPackagedPostgres(): Promise<PackagedPostgres | undefined> {
  const versions = await readdir(PACKAGES).catch(() => [] as string[]);
  for (const version of versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))) {
    const home = path.join(PACKAGES, version);
    if ((await exists(path.join(home, 'bin', 'initdb'))) && (await exists(path.join(home, 'lib', 'llvmjit.so')))) {
      return { version: Number(version), bin: path.join(home, 'bin') };
    }
  }
  return undefined;
}

/**
 * initdb and start in a temporary folder on a free port. PostgreSQL refuses to run as root, so
 * as root the server runs as the `postgres` user that the package created. The folder is deleted
 * by stop(), or here when the server does not come up.
 */
export async function startPackagedPostgres({ bin }: PackagedPostgres): Promise<RunningPackagedPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlmon-packaged-pg-'));
  const asRoot = process.getuid?.() === 0;
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);
  const data = path.join(dir, 'data');
  const stop = async () => {
    // immediate: nothing of a throwaway server is worth a checkpoint; fails harmlessly when it never started
    await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (asRoot) {
      const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
      await chown(dir, await id('-u'), await id('-g'));
    }
    await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    const port = await freePort();
    const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await pg('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', settings, '-w', 'start']);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
  } catch (error) {
    // the server's log goes with the folder: keep its end in the error
    const log = await readFile(path.join(dir, 'server.log'), 'utf8').catch(() => '');
    await stop();
    if (!log) throw error;
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nserver.log (end):\n${log.slice(-4000)}`, { cause: error });
  }
}
