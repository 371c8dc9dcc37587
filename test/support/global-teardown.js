// Plain ESM: jest loads global teardown outside its transform.
import { removeClusterFolder, withTimeout } from './cluster-folder.js';

/** A clean shutdown takes a second or two; past this the stop counts as failed. */
const STOP_TIMEOUT_MS = 60_000;

/**
 * Stops the embedded cluster of the global setup and deletes its temporary folder (40–70 MB per
 * run). When the stop fails, the folder is still deleted if no server runs on it any more (see
 * removeClusterFolder), and the stop's error is reported after.
 */
export default async function globalTeardown() {
  const cluster = globalThis.__mlmonTestCluster;
  const dataDir = globalThis.__mlmonTestClusterDir;
  globalThis.__mlmonTestCluster = undefined;
  globalThis.__mlmonTestClusterDir = undefined;
  let stopError;
  try {
    if (cluster) await withTimeout(cluster.stop(), STOP_TIMEOUT_MS, 'stopping the embedded PostgreSQL of the tests');
  } catch (error) {
    stopError = error;
  }
  if (dataDir) {
    try {
      await removeClusterFolder(dataDir);
    } catch (error) {
      if (!stopError) throw error;
      console.error(`mlmon tests: could not delete ${dataDir}:`, error);
    }
  }
  if (stopError) throw stopError;
}
