import type { Sql } from '../../src/db/connect.js';
import { dailyMetrics, metricsBetween, metricsEndingAt, timeseries, trailingWindows } from '../../src/aggregate/reports.js';
import { readPieces } from '../../src/aggregate/read-window.js';
import { DAY_US, HOUR_US, isoMicros, microsOfIso, MINUTE_US } from '../../src/aggregate/window.js';

// The window read is one call of the SQL function mlmon_window_pieces: a fake `sql` records its
// parameters and answers with rows given by piece and version, so the planning and the merging of
// the pieces around it are tested without PostgreSQL (test/integration covers the SQL itself).
type Row = { piece: number; model_version: string; predictions: number } & Record<string, number | string | null>;
function fakeSql(rows: Row[]) {
  const calls: unknown[][] = [];
  const sql = {
    unsafe: async (_text: string, params: unknown[]) => {
      calls.push(params);
      return rows.map((r) => ({
        confidence_sum: 0, latency_count: 0, latency_sum_ms: 0, labelled: 0, accurate: 0, anomalies: 0,
        error_abs_sum: 0, error_sq_sum: 0, actual_mean: null, actual_m2: null, ...r,
      }));
    },
  } as unknown as Sql;
  const boundaries = () => (calls[0]![0] as string[]).map(microsOfIso);
  return { sql, calls, boundaries };
}

const RULES = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };
const NOW = Date.UTC(2026, 10, 28, 13, 42, 30) * 1000 + 7;

describe('readPieces (src/aggregate/read-window.ts)', () => {
  it('sends the boundaries and ranges as microsecond text, and refuses decreasing boundaries', async () => {
    const { sql, calls } = fakeSql([]);
    await readPieces(sql, { boundaries: [NOW - HOUR_US, NOW], anomalyThresholdMinutes: 5 });
    expect(calls[0]![0]).toEqual([isoMicros(NOW - HOUR_US), isoMicros(NOW)]);
    expect(calls[0]![5]).toBe(5);
    await expect(readPieces(sql, { boundaries: [NOW, NOW - 1], anomalyThresholdMinutes: 5 })).rejects.toThrow('must not decrease');
    const empty = fakeSql([{ piece: 0, model_version: 'v1', predictions: 1 }]);
    expect(await readPieces(empty.sql, { boundaries: [NOW, NOW], anomalyThresholdMinutes: 5 })).toEqual([]);
    expect(empty.calls).toHaveLength(0);
  });

  it('numbers the sources: whole days 1, 10-minute buckets 3, raw rows 0', async () => {
    const day = Date.UTC(2026, 10, 28) * 1000;
    const { sql, calls } = fakeSql([]);
    await readPieces(sql, { boundaries: [day - 10 * MINUTE_US - 5, day + DAY_US + 5], anomalyThresholdMinutes: 5 });
    const [, , starts, ends, sources] = calls[0]!;
    expect([starts, ends, sources]).toEqual([
      [day, day - 10 * MINUTE_US, day - 10 * MINUTE_US - 5, day + DAY_US].map(isoMicros),
      [day + DAY_US, day, day - 10 * MINUTE_US, day + DAY_US + 5].map(isoMicros),
      [1, 3, 0, 0],
    ]);
  });

  it('a row with no labelled predictions has no actuals moments, whatever residue the database sends', async () => {
    const { sql } = fakeSql([{ piece: 0, model_version: 'v1', predictions: 2, labelled: 0, actual_mean: 3, actual_m2: 1e-9 }]);
    const [read] = await readPieces(sql, { boundaries: [NOW - HOUR_US, NOW], anomalyThresholdMinutes: 5 });
    expect(read!.aggregate).toMatchObject({ predictions: 2, labelled: 0, actualMean: 0, actualM2: 0 });
    const labelled = fakeSql([{ piece: 0, model_version: 'v1', predictions: 2, labelled: 2, actual_mean: 4, actual_m2: 0.5 }]);
    const [withActuals] = await readPieces(labelled.sql, { boundaries: [NOW - HOUR_US, NOW], anomalyThresholdMinutes: 5 });
    expect(withActuals!.aggregate).toMatchObject({ labelled: 2, actualMean: 4, actualM2: 0.5 });
  });
});

describe('trailingWindows (src/aggregate/reports.ts)', () => {
  it('cuts nested windows into disjoint pieces and merges each window from the pieces it covers', async () => {
    const { sql, boundaries } = fakeSql([
      { piece: 0, model_version: 'v1', predictions: 2 }, // in the 24 h window only
      { piece: 1, model_version: 'v1', predictions: 3 }, // in both
      { piece: 1, model_version: 'v2', predictions: 1 },
    ]);
    const [hour, day, hourAgain] = await trailingWindows(sql, RULES, NOW, [HOUR_US, 24 * HOUR_US, HOUR_US]);
    expect(boundaries()).toEqual([NOW - 24 * HOUR_US + 1, NOW - HOUR_US + 1, NOW + 1]);
    const predictions = (m: Map<string, { predictions: number }>) => Object.fromEntries([...m].map(([k, a]) => [k, a.predictions]));
    expect(predictions(day!)).toEqual({ v1: 5, v2: 1, all: 6 });
    expect(predictions(hour!)).toEqual({ v1: 3, v2: 1, all: 4 });
    expect(hourAgain).toBe(hour);
  });
});

describe('dailyMetrics (src/aggregate/reports.ts)', () => {
  it('exactly `days` UTC days, oldest first, today ending now, empty days included', async () => {
    const { sql, boundaries } = fakeSql([
      { piece: 0, model_version: 'all', predictions: 4 },
      { piece: 2, model_version: 'all', predictions: 7 },
    ]);
    const days = await dailyMetrics(sql, RULES, 3, NOW);
    const today = Date.UTC(2026, 10, 28) * 1000;
    expect(boundaries()).toEqual([today - 2 * DAY_US, today - DAY_US, today, NOW + 1]);
    expect(days.map((d) => [d.date, d.predictions, d.from, d.period_hours])).toEqual([
      ['2026-11-26', 4, '2026-11-26T00:00:00.000Z', 24],
      ['2026-11-27', 0, '2026-11-27T00:00:00.000Z', 24],
      ['2026-11-28', 7, '2026-11-28T00:00:00.000Z', (NOW + 1 - today) / HOUR_US],
    ]);
    expect(days[2]!.to).toBe(new Date(Math.floor((NOW + 1) / 1000)).toISOString());
  });

  it("filters one version, not for 'all' or none; the database sums the versions", async () => {
    for (const [version, filter] of [[undefined, null], ['all', null], ['v1', ['v1']]] as const) {
      const { sql, calls } = fakeSql([]);
      await dailyMetrics(sql, RULES, 1, NOW, version);
      expect([version, calls[0]![1], calls[0]![6]]).toEqual([version, filter, 'all']);
    }
  });
});

describe('timeseries (src/aggregate/reports.ts)', () => {
  it('one point per epoch-aligned step over (from, to], the first labelled at from, pieces clipped to the range', async () => {
    const from = Date.UTC(2026, 10, 28, 10, 30) * 1000;
    const to = Date.UTC(2026, 10, 28, 13, 0) * 1000;
    const { sql, boundaries } = fakeSql([
      { piece: 0, model_version: 'all', predictions: 1 },
      { piece: 3, model_version: 'all', predictions: 9 },
    ]);
    const [series] = await timeseries(sql, RULES, from, to, HOUR_US);
    const hour = (h: number) => Date.UTC(2026, 10, 28, h) * 1000;
    expect(boundaries()).toEqual([from + 1, hour(11), hour(12), hour(13), to + 1]);
    expect(series!.model_version).toBe('all');
    expect(series!.points.map((p) => [p.time, p.predictions])).toEqual([
      ['2026-11-28T10:30:00.000Z', 1],
      ['2026-11-28T11:00:00.000Z', 0],
      ['2026-11-28T12:00:00.000Z', 0],
      ['2026-11-28T13:00:00.000Z', 9], // the instant `to` itself, in (from, to]
    ]);
  });

  it('one series per requested version, each from its own rows', async () => {
    const from = Date.UTC(2026, 10, 28, 10) * 1000;
    const { sql, calls } = fakeSql([
      { piece: 0, model_version: 'v1', predictions: 2 },
      { piece: 0, model_version: 'v2', predictions: 5 },
    ]);
    const series = await timeseries(sql, RULES, from, from + HOUR_US - 1, HOUR_US, ['v1', 'v2']);
    expect(calls[0]![1]).toEqual(['v1', 'v2']);
    expect(calls[0]![6]).toBeNull(); // not summed in the database
    expect(series.map((s) => [s.model_version, s.points.map((p) => p.predictions)])).toEqual([['v1', [2]], ['v2', [5]]]);
  });

  it("the fleet as one series ('all' alone, summed in the database) or next to versions (summed here)", async () => {
    const from = Date.UTC(2026, 10, 28, 10) * 1000;
    const alone = fakeSql([{ piece: 0, model_version: 'all', predictions: 7 }]);
    expect((await timeseries(alone.sql, RULES, from, from + HOUR_US - 1, HOUR_US))[0]!.points[0]!.predictions).toBe(7);
    expect([alone.calls[0]![1], alone.calls[0]![6]]).toEqual([null, 'all']);
    const mixed = fakeSql([{ piece: 0, model_version: 'v1', predictions: 2 }, { piece: 0, model_version: 'v2', predictions: 5 }]);
    const series = await timeseries(mixed.sql, RULES, from, from + HOUR_US - 1, HOUR_US, ['all', 'v1']);
    expect([mixed.calls[0]![1], mixed.calls[0]![6]]).toEqual([null, null]);
    expect(series.map((s) => [s.model_version, s.points.map((p) => p.predictions)])).toEqual([['all', [7]], ['v1', [2]]]);
    const single = fakeSql([{ piece: 0, model_version: 'v2', predictions: 5 }]);
    expect((await timeseries(single.sql, RULES, from, from + HOUR_US - 1, HOUR_US, ['v2']))[0]!.points[0]!.predictions).toBe(5);
    expect([single.calls[0]![1], single.calls[0]![6]]).toEqual([['v2'], null]);
  });
});

describe('metricsBetween and metricsEndingAt (src/aggregate/reports.ts)', () => {
  it('read (from, to] and report it as asked, for one version or the fleet', async () => {
    const from = Date.UTC(2026, 10, 28, 10) * 1000 + 1;
    const to = Date.UTC(2026, 10, 28, 12) * 1000 + 1;
    for (const [version, filter] of [[undefined, null], ['all', null], ['v1', ['v1']]] as const) {
      const { sql, calls, boundaries } = fakeSql([{ piece: 0, model_version: 'all', predictions: 3 }]);
      const report = await metricsBetween(sql, RULES, from, to, version);
      expect(boundaries()).toEqual([from + 1, to + 1]);
      expect([version, calls[0]![1], calls[0]![6]]).toEqual([version, filter, 'all']);
      expect(report).toMatchObject({ predictions: 3, period_hours: 2, from: '2026-11-28T10:00:00.000Z', to: '2026-11-28T12:00:00.000Z' });
    }
    const { sql } = fakeSql([{ piece: 0, model_version: 'v1', predictions: 2 }, { piece: 1, model_version: 'v2', predictions: 1 }]);
    const [hour, day] = await metricsEndingAt(sql, RULES, NOW, [HOUR_US, DAY_US] as const);
    expect([hour.predictions, hour.period_hours, day.predictions, day.period_hours]).toEqual([1, 1, 3, 24]);
  });
});
