// Plain ESM, like global-setup.js: jest loads global setup and teardown outside its transform.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * The pid of a PostgreSQL server still running on the cluster in `dataDir` (the embedded layout:
 * `dataDir/pg`), from its postmaster.pid; undefined when none is. PostgreSQL removes the file on a
 * clean shutdown, and a crashed server leaves one naming a dead process.
 */
async function livePostmaster(dataDir) {
  let text;
  try {
    text = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n', 1)[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: it exists but belongs to another user (as root, PostgreSQL runs as "postgres")
    return error?.code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Removes the temporary folder of a test cluster, unless a PostgreSQL server still runs on it
 * (its stop failed or timed out): deleting the files under a live server would leave the server
 * running unseen. Then the folder stays, and a warning says where and which process to end.
 */
export async function removeClusterFolder(dataDir) {
  const pid = await livePostmaster(dataDir);
  if (pid !== undefined) {
    console.warn(`\nmlmon tests: PostgreSQL (pid ${pid}) still runs on ${dataDir}; the folder is left in place. End that process, then delete the folder.\n`);
    return false;
  }
  await rm(dataDir, { recursive: true, force: true });
  return true;
}

/** Resolves with `promise`, or rejects once `ms` have passed without it settling. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
