/**
 * Database restart under load. A private PostgreSQL on a fixed port, the service as a real process
 * pointed at it (DATABASE_URL), clients ingesting at a steady rate with unique request_ids. We
 * stop PostgreSQL for a few seconds and start it again on the same port:
 *  - while it is down, writes get 503 + Retry-After in bounded time (never a hang, never a 500),
 *    /readyz is 503, /metrics still answers and says mlmon_database_up 0;
 *  - afterwards the service recovers by itself (no restart of the service);
 *  - figure: every acknowledged prediction is stored exactly once (lost = 0, doubled = 0), in the
 *    table and in the rollups.
 */
import { startServiceProcess, type RunningService } from '../support/service.js';
import {
  call, leakIn, ledger, sample, sleep, startIngestLoad, startPrivateCluster, storedFor, uniqueTag,
  type CallResult, type PrivateCluster,
} from './support.js';

const OUTAGE_MIN_MS = 4000;
const OBSERVE_MAX_MS = 20_000;
const RECOVERY_MAX_MS = 30_000;
/**
 * "Never a hang": a write must be answered within this even with the database gone. It is the
 * service's own request timeout (30 s); the driver's connect_timeout is 5 s, but a failed group
 * commit retries its requests one by one, so a write queued behind others can wait a few of those.
 */
const ANSWER_BOUND_MS = 30_000;

describe('database restart under load', () => {
  let cluster: PrivateCluster | undefined;
  let service: RunningService | undefined;

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await cluster?.destroy();
  }, 60_000);

  it('503 + Retry-After while down, recovers by itself, acknowledged predictions lost = 0, doubled = 0', async () => {
    cluster = await startPrivateCluster();
    service = await startServiceProcess({ databaseUrl: cluster.url, env: { MLMON_METRICS_CACHE_SECONDS: '1', LOG_LEVEL: 'warn' } });
    const s = service;
    const version = uniqueTag('restart');
    const load = startIngestLoad(s.baseUrl, s.ingestToken, version, { clients: 4, intervalMs: 40, timeoutMs: ANSWER_BOUND_MS });

    await sleep(3000); // steady state before the fault
    const ackedBefore = load.acknowledged.size;
    expect(ackedBefore).toBeGreaterThan(0);

    // --- the fault
    const answersBefore = load.answers.length;
    const downAt = Date.now();
    await cluster.stop();
    const seen = { write503: undefined as CallResult | undefined, readyz503: false, metricsDown: false, metricsStatus: [] as number[] };
    const alive = () => s.process.exitCode === null && s.process.signalCode === null;
    while (alive() && Date.now() - downAt < OBSERVE_MAX_MS && !(seen.write503 && seen.readyz503 && seen.metricsDown && Date.now() - downAt >= OUTAGE_MIN_MS)) {
      const [ready, metrics] = await Promise.all([call(s.baseUrl, 'GET', '/readyz', { timeoutMs: 10_000 }), call(s.baseUrl, 'GET', '/metrics', { timeoutMs: 10_000 })]);
      if (ready.status === 503) seen.readyz503 = true;
      seen.metricsStatus.push(metrics.status);
      if (metrics.status === 200 && sample(metrics.text, 'mlmon_database_up') === 0) seen.metricsDown = true;
      seen.write503 ??= load.answers.slice(answersBefore).find((a) => a.status === 503);
      await sleep(200);
    }
    const downMs = Date.now() - downAt;
    await cluster.start();
    const upAt = Date.now();

    // --- recovery, by itself
    let recoveredMs: number | undefined;
    while (alive() && Date.now() - upAt < RECOVERY_MAX_MS) {
      const ready = await call(s.baseUrl, 'GET', '/readyz', { timeoutMs: 10_000 });
      if (ready.status === 200) {
        recoveredMs = Date.now() - upAt;
        break;
      }
      await sleep(200);
    }
    const ackedAtRecovery = load.acknowledged.size;
    if (alive()) await sleep(3000); // writes must flow again
    await load.stop();
    const ackedAfterRecovery = load.acknowledged.size - ackedAtRecovery;

    // /metrics says the database is back (the gauge cache is 1 s)
    let metricsUpAgain = false;
    for (let i = 0; i < 20 && !metricsUpAgain && alive(); i++) {
      const m = await call(s.baseUrl, 'GET', '/metrics');
      metricsUpAgain = m.status === 200 && sample(m.text, 'mlmon_database_up') === 1;
      if (!metricsUpAgain) await sleep(500);
    }

    // --- what the clients saw
    const statuses: Record<string, number> = {};
    for (const a of load.answers) {
      const key = a.status === 0 ? `error:${a.error}` : String(a.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    const slowest = Math.max(...load.answers.map((a) => a.ms));
    const leaks = load.answers.filter((a) => a.status >= 400).map((a) => leakIn(a.text)).filter(Boolean);
    const refusals = load.answers.filter((a) => a.status === 503);
    // per second since the fault: statuses seen and the slowest answer
    const timeline: Record<string, string> = {};
    for (const a of load.answers) {
      const second = Math.floor((a.at - downAt) / 1000);
      if (second < -1) continue;
      const key = String(second);
      timeline[key] = `${timeline[key] ?? ''}${a.status === 0 ? 'E' : String(a.status)[0]}`;
    }
    const timelineText = Object.entries(timeline).map(([k, v]) => `${k}s:${v.length}x[${[...new Set(v)].join('')}]`).join(' ');
    const stored = await storedFor(cluster.url, version);
    const figure = ledger(load.acknowledged, load.attempted, stored);
    const report = {
      version, downMs, recoveredMs, statuses, slowestAnswerMs: Math.round(slowest), ackedBefore, ackedAfterRecovery,
      metricsStatusWhileDown: [...new Set(seen.metricsStatus)], ...figure,
    };
    console.log(`answers per second since the fault (status classes): ${timelineText}`);
    console.log(`database restart under load: ${JSON.stringify(report)}`);
    const exited = s.process.exitCode ?? s.process.signalCode;
    if (exited !== null) console.log(`the service exited (${exited}) during the test; its output:\n${s.output().slice(-4000)}`);
    const fiveHundreds = load.answers.filter((a) => a.status === 500);
    if (fiveHundreds.length) console.log(`500 bodies: ${fiveHundreds.map((a) => a.text).join('\n')}\nservice log tail:\n${s.output().slice(-4000)}`);

    // while down
    expect(exited).toBeNull(); // the service survives the outage
    expect(seen.write503).toBeDefined();
    expect(seen.readyz503).toBe(true);
    expect(seen.metricsDown).toBe(true);
    expect(seen.metricsStatus.every((status) => status === 200)).toBe(true);
    for (const r of refusals) {
      expect(r.headers?.get('retry-after')).toMatch(/^\d+$/);
      expect(r.json).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    }
    expect(statuses['500']).toBeUndefined();
    expect(statuses['error:timeout']).toBeUndefined(); // never a hang
    expect(slowest).toBeLessThan(ANSWER_BOUND_MS);
    expect(leaks).toEqual([]);
    // recovery
    expect(recoveredMs).toBeDefined();
    expect(ackedAfterRecovery).toBeGreaterThan(0);
    expect(metricsUpAgain).toBe(true);
    // the figure
    expect(figure.lost).toBe(0);
    expect(figure.doubled).toBe(0);
    expect(figure.rollupPredictions).toBe(figure.stored);
    expect(s.output()).not.toMatch(/failed to start|unhandled|uncaught/i);
  }, 110_000);
});
