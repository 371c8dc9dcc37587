import { rm } from 'node:fs/promises';

const STOP_TIMEOUT_MS = 10_000;

/** Stops what global-setup started: the service (gracefully, then by force), PostgreSQL, the temp folder. */
export default async function globalTeardown() {
  const started = globalThis.__mlmonContract;
  if (!started) return;
  globalThis.__mlmonContract = undefined;
  const { service, exited, database, workDir } = started;
  if (service.exitCode === null && service.signalCode === null) {
    service.kill('SIGTERM');
    const timer = setTimeout(() => service.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  await database.stop();
  await rm(workDir, { recursive: true, force: true });
}
