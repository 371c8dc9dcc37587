/**
 * SIGTERM during load, with the embedded PostgreSQL (no DATABASE_URL): in-flight requests finish
 * or get a clean error, the process exits 0, the cluster is shut down cleanly (no postmaster.pid
 * left), and the next start on the same data dir is healthy and holds every acknowledged row.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { postgresDataDir, startServiceProcess, type RunningService } from '../support/service.js';
import { API, call, leakIn, sleep, startIngestLoad, uniqueTag } from './support.js';

/** Every request_id of one model version, through the public API (cursor paging). */
async function storedIds(s: RunningService, version: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const r = await call(s.baseUrl, 'GET', `${API}/predictions?limit=1000&model_version=${version}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: s.readToken });
    if (r.status !== 200) throw new Error(`GET /predictions: ${r.status} ${r.text}`);
    ids.push(...(r.json as { request_id: string }[]).map((p) => p.request_id));
    cursor = r.headers?.get('x-next-cursor') ?? undefined;
    if (!cursor) return ids;
  }
  throw new Error('too many pages');
}

describe('SIGTERM during load (embedded PostgreSQL)', () => {
  let dataDir: string;
  const started: RunningService[] = [];
  beforeAll(async () => {
    dataDir = await postgresDataDir('mlmon-reliability-sigterm-');
  });
  afterAll(async () => {
    for (const s of started) await s.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('in-flight requests finish or fail cleanly, exit 0, clean cluster shutdown, next start has every acknowledged row', async () => {
    const env = { MLMON_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const first = await startServiceProcess({ env });
    started.push(first);
    const version = uniqueTag('sigterm');
    // singles and batches of 20, so that some requests are mid-transaction when the signal lands
    const singles = startIngestLoad(first.baseUrl, first.ingestToken, version, { clients: 3, intervalMs: 10, timeoutMs: 30_000 });
    const batches = startIngestLoad(first.baseUrl, first.ingestToken, `${version}`, { clients: 2, intervalMs: 10, batch: 20, timeoutMs: 30_000 });
    await sleep(2500);
    const inFlightAtSignal = singles.answers.length + batches.answers.length;
    const code = await first.stop('SIGTERM');
    await Promise.all([singles.stop(), batches.stop()]);

    const answers = [...singles.answers, ...batches.answers];
    const acknowledged = new Set([...singles.acknowledged, ...batches.acknowledged]);
    const statuses: Record<string, number> = {};
    for (const a of answers) {
      const key = a.status === 0 ? `error:${a.error}` : String(a.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    const pidFileLeft = existsSync(path.join(dataDir, 'pg', 'postmaster.pid'));

    // --- the next start on the same data dir
    const second = await startServiceProcess({ env });
    started.push(second);
    const ready = await call(second.baseUrl, 'GET', '/readyz');
    const ids = await storedIds(second, version);
    const stored = new Map<string, number>();
    for (const id of ids) stored.set(id, (stored.get(id) ?? 0) + 1);
    const lost = [...acknowledged].filter((id) => !stored.has(id));
    const doubled = [...stored.values()].filter((n) => n > 1).length;
    const metrics = await call(second.baseUrl, 'GET', `${API}/metrics?hours=1&model_version=${version}`, { token: second.readToken });
    const secondCode = await second.stop('SIGTERM');

    const report = {
      exitCode: code, secondExitCode: secondCode, answersBeforeSignal: inFlightAtSignal, statuses, acknowledged: acknowledged.size,
      stored: ids.length, lost: lost.length, doubled, rollupPredictions: metrics.json?.predictions, pidFileLeft,
    };
    console.log(`SIGTERM during load: ${JSON.stringify(report)}`);

    expect(code).toBe(0);
    expect(first.output()).toContain('shutting down');
    expect(first.output()).not.toMatch(/TypeError|unhandled|uncaught/i);
    expect(pidFileLeft).toBe(false);
    // clean errors only: 2xx, or 503 (closing), or the connection refused/closed after close
    for (const [key, n] of Object.entries(statuses)) {
      expect({ key, n, clean: /^(201|503|error:(ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|EPIPE))$/.test(key) }).toEqual({ key, n, clean: true });
    }
    expect(answers.filter((a) => a.status >= 400).map((a) => leakIn(a.text)).filter(Boolean)).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(0);
    expect(ready.status).toBe(200);
    expect(lost).toEqual([]);
    expect(doubled).toBe(0);
    expect(metrics.json?.predictions).toBe(ids.length);
    expect(secondCode).toBe(0);
  }, 110_000);
});
