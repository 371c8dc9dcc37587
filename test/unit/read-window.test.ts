import type { Sql } from '../../src/db/connect.js';
import { metricsBetween } from '../../src/aggregate/reports.js';
import { readPieces, readReport } from '../../src/store/read-window.js';
import { DAY_US, HOUR_US, isoMicros, microsOfIso, MINUTE_US } from '../../src/aggregate/window.js';

// The window read is one call of the SQL function mlmon_window_pieces: a fake `sql` records its
// parameters and answers with rows given by piece and version, so the encoding of the call and the
// decoding of its rows are tested without PostgreSQL (test/integration covers the SQL itself).
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

const NOW = Date.UTC(2026, 10, 28, 13, 42, 30) * 1000 + 7;

describe('readPieces (src/store/read-window.ts)', () => {
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

describe('readReport (src/store/read-window.ts)', () => {
  it("reads the report's query and assembles the report from the pieces read", async () => {
    const from = Date.UTC(2026, 10, 28, 10) * 1000;
    const { sql, boundaries } = fakeSql([{ piece: 0, model_version: 'all', predictions: 3 }]);
    const report = await readReport(sql, metricsBetween({ accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 7 }, from, from + DAY_US));
    expect(boundaries()).toEqual([from + 1, from + DAY_US + 1]);
    expect(report).toMatchObject({ predictions: 3, period_hours: 24 });
  });
});
