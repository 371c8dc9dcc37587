/**
 * The short soak: ~20 s of mixed ingest and reads (scripts/lib/soak.ts, the same load as
 * `scripts/soak.ts`) against the real process. Memory and latency must stay flat: the median of
 * the last third of the samples over the median of the first third, with generous bounds (no
 * absolute timings: the machine is shared), and no request may fail.
 */
import { runSoak } from '../../scripts/lib/soak.js';
import { useServiceOnTestDatabase } from './support.js';

const DURATION_MS = Number(process.env.MLMON_SOAK_TEST_SECONDS ?? 20) * 1000;
/** Last third / first third. A leak of ~1 MB/s or a latency that keeps climbing breaks these. */
const MAX_RSS_RATIO = 1.5;
const MAX_LATENCY_RATIO = 4;
/** p95 over a few seconds is dominated by the neighbours on a shared machine (3.3 seen in CI). */
const MAX_TAIL_LATENCY_RATIO = 10;

describe('short soak', () => {
  const running = useServiceOnTestDatabase();

  it('memory and latency stay flat, no errors', async () => {
    const s = running();
    const report = await runSoak({ baseUrl: s.baseUrl, ingestToken: s.ingestToken, readToken: s.readToken, durationMs: DURATION_MS, sampleMs: DURATION_MS / 10, warmupMs: 3000, concurrency: 4 });
    console.log(
      `short soak: ${report.totalRequests} requests, ${report.totalErrors} errors, ${report.predictionsAcknowledged} predictions; ratios ${JSON.stringify(report.ratios)}\n` +
        report.samples.map((x) => `  t=${x.t}s rss=${x.rssMb}MB n=${x.requests} err=${x.errors} p50=${x.p50Ms} p95=${x.p95Ms} p99=${x.p99Ms}`).join('\n'),
    );
    expect(report.samples.length).toBeGreaterThanOrEqual(9);
    expect(report.totalRequests).toBeGreaterThan(0);
    expect(report.errorKinds).toEqual({});
    expect(report.totalErrors).toBe(0);
    expect(report.ratios.rss).toBeLessThan(MAX_RSS_RATIO);
    expect(report.ratios.p50).toBeLessThan(MAX_LATENCY_RATIO);
    expect(report.ratios.p95).toBeLessThan(MAX_TAIL_LATENCY_RATIO);
  }, DURATION_MS + 60_000);
});
