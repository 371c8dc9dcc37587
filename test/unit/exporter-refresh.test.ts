/**
 * When the exporter reads the database: ahead of the scrapes while somebody scrapes, never
 * between scrapes once nobody has for a while, on every scrape with cacheSeconds 0. The database
 * is a fake that counts reads (each read of the flags is one refresh) and numbers them through
 * the traffic percentage, so a scrape shows which read it serves. The real database is in
 * test/integration/prometheus.test.ts.
 */
import { jest } from '@jest/globals';
import type { Sql } from '../../src/db/connect.js';
import { Exporter } from '../../src/expose/prometheus/exporter.js';
import { parsePrometheus, samplesOf } from '../support/reference.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function countingDatabase() {
  const state = { reads: 0, down: false, readMs: 0 };
  const flags = async () => {
    state.reads += 1;
    if (state.down) throw new Error('connect ECONNREFUSED');
    const read = [{ ml_enabled: true, ml_traffic_percentage: state.reads, updated_at: new Date() }];
    if (state.readMs > 0) await tick(state.readMs);
    return read;
  };
  const sql = Object.assign(flags, { unsafe: () => Promise.resolve([]) }) as unknown as Sql;
  return { sql, state };
}

/**
 * Runs `body` with an exporter on a counting database and closes it after; on jest's fake clock
 * if asked (promises stay real, so the refreshes still run between the advanced timers).
 */
interface Observed {
  reads: number;
  /** Set to make every read fail. */
  down: boolean;
  /** How long a read takes to come back (its values are those of its start). */
  readMs: number;
  failuresReported: number;
  recoveries: number[];
}

async function withExporter(
  cacheSeconds: number,
  body: (exporter: Exporter, state: Observed) => Promise<void>,
  clock: 'real' | 'fake' = 'real',
): Promise<void> {
  if (clock === 'fake') jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const { sql, state: database } = countingDatabase();
  const state: Observed = Object.assign(database, { failuresReported: 0, recoveries: [] as number[] });
  const exporter = new Exporter({
    sql,
    rules: { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 },
    cacheSeconds,
    maxModelVersions: 50,
    onRefreshError: () => (state.failuresReported += 1),
    onRefreshRecovered: (failedForMs) => state.recoveries.push(failedForMs),
  });
  try {
    await body(exporter, state);
  } finally {
    exporter.close();
    if (clock === 'fake') jest.useRealTimers();
  }
}

/** The number of the read a scrape served (its traffic percentage). */
async function servedRead(exporter: Exporter): Promise<number | undefined> {
  const value = samplesOf(parsePrometheus(await exporter.render()), 'ml_feature_flag_traffic_ratio')[0]?.value;
  return value === undefined ? undefined : Math.round(value * 100);
}

describe('exporter gauge refresh', () => {
  it('reads ahead of the scrapes, so that a scrape serves the latest read without reading', () =>
    withExporter(0.05, async (exporter, state) => {
      expect(await servedRead(exporter)).toBe(1); // the first scrape has nothing to serve: it reads
      await tick(400);
      const readsBefore = state.reads;
      expect(readsBefore).toBeGreaterThanOrEqual(3); // refreshed every 50 ms without a scrape
      const served = await servedRead(exporter);
      expect(state.reads).toBe(readsBefore);
      expect(served).toBe(readsBefore);
    }));

  it('reads during every scrape and never between them with cacheSeconds 0', () =>
    withExporter(0, async (exporter, state) => {
      expect(await servedRead(exporter)).toBe(1);
      expect(await servedRead(exporter)).toBe(2);
      await tick(200);
      expect(state.reads).toBe(2);
    }));

  it('stops reading once nobody has scraped for 5 minutes, and the next scrape reads first', () =>
    withExporter(
      5,
      async (exporter, state) => {
        await servedRead(exporter);
        // Just past the 5 minutes: the loop checks every 5 s, so it has stopped by now and not before.
        await jest.advanceTimersByTimeAsync(5 * 60_000 + 5_000);
        const readsWhileScraped = state.reads;
        expect(readsWhileScraped).toBeGreaterThanOrEqual(55); // every 5 s for the 5 minutes
        await jest.advanceTimersByTimeAsync(30 * 60_000);
        expect(state.reads).toBe(readsWhileScraped);
        expect(await servedRead(exporter)).toBe(readsWhileScraped + 1);
        await jest.advanceTimersByTimeAsync(10_000);
        expect(state.reads).toBeGreaterThan(readsWhileScraped + 1); // refreshing again
      },
      'fake',
    ));

  it('keeps one background loop when several scrapes arrive at once', () =>
    withExporter(
      5,
      async (exporter, state) => {
        await Promise.all([exporter.render(), exporter.render(), exporter.render()]);
        expect(state.reads).toBe(1); // the three share the first read
        await jest.advanceTimersByTimeAsync(50_000);
        // one read every 5 s: about 10 more, not 30
        expect(state.reads).toBeGreaterThanOrEqual(10);
        expect(state.reads).toBeLessThanOrEqual(12);
      },
      'fake',
    ));

  it('reports a run of failed background reads once a minute, and the recovery once', () =>
    withExporter(
      5,
      async (exporter, state) => {
        await servedRead(exporter);
        state.down = true;
        await jest.advanceTimersByTimeAsync(150_000); // about 30 failed reads while scraped
        await servedRead(exporter);
        expect(state.reads).toBeGreaterThanOrEqual(30);
        expect(state.failuresReported).toBe(3); // at the first failure, then 60 s and 120 s later
        state.down = false;
        await jest.advanceTimersByTimeAsync(5_000);
        expect(state.recoveries).toHaveLength(1);
        expect(state.recoveries[0]).toBeGreaterThanOrEqual(145_000);
        state.down = true;
        await jest.advanceTimersByTimeAsync(5_000);
        expect(state.failuresReported).toBe(4); // a new run of failures is reported at once
      },
      'fake',
    ));

  it('reports the gauges as old as the process while no read has ever succeeded, not as fresh', () =>
    withExporter(
      5,
      async (exporter, state) => {
        state.down = true;
        const age = async () => samplesOf(parsePrometheus(await exporter.render()), 'mlmon_metrics_snapshot_age_seconds')[0]?.value;
        await age();
        await jest.advanceTimersByTimeAsync(11 * 60_000);
        // Nothing was ever read: the served (empty) gauges are 11 minutes old, enough for MLMetricsSnapshotStale.
        expect(await age()).toBeGreaterThanOrEqual(11 * 60);
        state.down = false;
        await jest.advanceTimersByTimeAsync(5_000);
        expect(await age()).toBeLessThan(10);
      },
      'fake',
    ));

  it('has no flag series until the flag was read: an unread flag is not reported as off at 0 %', () =>
    withExporter(0, async (exporter, state) => {
      const flagSamples = async () => {
        const samples = parsePrometheus(await exporter.render());
        return [...samplesOf(samples, 'ml_feature_flag_enabled'), ...samplesOf(samples, 'ml_feature_flag_traffic_ratio')].map((s) => s.value);
      };
      state.down = true;
      expect(await flagSamples()).toEqual([]);
      state.down = false;
      expect(await flagSamples()).toEqual([1, 0.02]); // the second read: enabled at 2 %
    }));

  it('counts the age of the gauges from the start of their read: a slow read does not pass for fresher than its values', () =>
    withExporter(0, async (exporter, state) => {
      state.readMs = 300;
      const age = samplesOf(parsePrometheus(await exporter.render()), 'mlmon_metrics_snapshot_age_seconds')[0]?.value;
      expect(age).toBeGreaterThanOrEqual(0.29); // a timer may fire a millisecond early
    }));

  it('does not make a scrape wait for a read while the background loop runs, even after a failed read', () =>
    withExporter(
      5,
      async (exporter, state) => {
        state.down = true;
        await exporter.render();
        const reads = state.reads;
        await exporter.render();
        await exporter.render();
        expect(state.reads).toBe(reads);
      },
      'fake',
    ));

  it('serves the last values after 2 s of a slow read, which then counts as the database down', () =>
    withExporter(
      0,
      async (exporter, state) => {
        state.readMs = 60_000;
        let served: string | undefined;
        void exporter.render().then((text) => (served = text));
        await jest.advanceTimersByTimeAsync(2_000);
        expect(served).toBeDefined();
        expect(samplesOf(parsePrometheus(served!), 'mlmon_database_up')[0]?.value).toBe(0);
        await jest.advanceTimersByTimeAsync(60_000);
      },
      'fake',
    ));

  it('does not count a read that finished in time as the database down once its deadline passes', () =>
    withExporter(
      60,
      async (exporter) => {
        await exporter.render();
        await jest.advanceTimersByTimeAsync(3_000);
        expect(samplesOf(parsePrometheus(await exporter.render()), 'mlmon_database_up')[0]?.value).toBe(1);
      },
      'fake',
    ));

  it('does not start another read after close when one was in flight', () =>
    withExporter(0.05, async (exporter, state) => {
      state.readMs = 200;
      await servedRead(exporter);
      await tick(100); // the first background read is under way
      expect(state.reads).toBe(2);
      exporter.close();
      await tick(600);
      expect(state.reads).toBe(2);
    }));

  it('does not start the background loop for a scrape served after close', () =>
    withExporter(0.05, async (exporter, state) => {
      // A scrape still in progress when the server shuts down is answered, and that must not revive the loop.
      exporter.close();
      await servedRead(exporter);
      await tick(300);
      expect(state.reads).toBe(1);
    }));

  it('stops reading when closed', () =>
    withExporter(0.05, async (exporter, state) => {
      await servedRead(exporter);
      exporter.close();
      await tick(300);
      expect(state.reads).toBe(1);
    }));
});
