import type { PieceReport, VersionPieceAggregate } from '../../src/aggregate/reports.js';
import { dailyMetrics, metricsBetween, metricsEndingAt, timeseries, trailingWindows } from '../../src/aggregate/reports.js';
import { EMPTY_AGGREGATE } from '../../src/aggregate/moments.js';
import { DAY_US, HOUR_US } from '../../src/aggregate/window.js';

// Reports are pure: each names the pieces of time it needs (its query) and merges the pieces read
// (assemble). Both halves are tested here on given pieces; store/read-window.ts does the reading.
const piece = (index: number, modelVersion: string, predictions: number): VersionPieceAggregate => ({
  piece: index,
  modelVersion,
  aggregate: { ...EMPTY_AGGREGATE, predictions },
});
const assembled = <T>(report: PieceReport<T>, pieces: VersionPieceAggregate[]) => report.assemble(pieces);

const RULES = { accuracyToleranceMinutes: 3, anomalyThresholdMinutes: 5 };
const NOW = Date.UTC(2026, 10, 28, 13, 42, 30) * 1000 + 7;

describe('trailingWindows (src/aggregate/reports.ts)', () => {
  it('cuts nested windows into disjoint pieces and merges each window from the pieces it covers', () => {
    const report = trailingWindows(RULES, NOW, [HOUR_US, 24 * HOUR_US, HOUR_US]);
    expect(report.query).toEqual({ boundaries: [NOW - 24 * HOUR_US + 1, NOW - HOUR_US + 1, NOW + 1], anomalyThresholdMinutes: 5 });
    const [hour, day, hourAgain] = assembled(report, [
      piece(0, 'v1', 2), // in the 24 h window only
      piece(1, 'v1', 3), // in both
      piece(1, 'v2', 1),
    ]);
    const predictions = (m: Map<string, { predictions: number }>) => Object.fromEntries([...m].map(([k, a]) => [k, a.predictions]));
    expect(predictions(day!)).toEqual({ v1: 5, v2: 1, all: 6 });
    expect(predictions(hour!)).toEqual({ v1: 3, v2: 1, all: 4 });
    expect(hourAgain).toBe(hour);
  });
});

describe('dailyMetrics (src/aggregate/reports.ts)', () => {
  it('exactly `days` UTC days, oldest first, today ending now, empty days included', () => {
    const report = dailyMetrics(RULES, 3, NOW);
    const today = Date.UTC(2026, 10, 28) * 1000;
    expect(report.query.boundaries).toEqual([today - 2 * DAY_US, today - DAY_US, today, NOW + 1]);
    const days = assembled(report, [piece(0, 'all', 4), piece(2, 'all', 7)]);
    expect(days.map((d) => [d.date, d.predictions, d.from, d.period_hours])).toEqual([
      ['2026-11-26', 4, '2026-11-26T00:00:00.000Z', 24],
      ['2026-11-27', 0, '2026-11-27T00:00:00.000Z', 24],
      ['2026-11-28', 7, '2026-11-28T00:00:00.000Z', Number(((NOW + 1 - today) / HOUR_US).toPrecision(12))],
    ]);
    expect(days[2]!.to).toBe(new Date(Math.floor((NOW + 1) / 1000)).toISOString());
  });

  it("filters one version, not for 'all' or none; the database sums the versions", () => {
    for (const [version, filter] of [[undefined, undefined], ['all', undefined], ['v1', ['v1']]] as const) {
      const { query } = dailyMetrics(RULES, 1, NOW, version);
      expect([version, query.modelVersions, query.combineVersionsAs]).toEqual([version, filter, 'all']);
    }
  });
});

describe('timeseries (src/aggregate/reports.ts)', () => {
  it('one point per epoch-aligned step over (from, to], the first labelled at from, pieces clipped to the range', () => {
    const from = Date.UTC(2026, 10, 28, 10, 30) * 1000;
    const to = Date.UTC(2026, 10, 28, 13, 0) * 1000;
    const report = timeseries(RULES, from, to, HOUR_US);
    const hour = (h: number) => Date.UTC(2026, 10, 28, h) * 1000;
    expect(report.query.boundaries).toEqual([from + 1, hour(11), hour(12), hour(13), to + 1]);
    const [series] = assembled(report, [piece(0, 'all', 1), piece(3, 'all', 9)]);
    expect(series!.model_version).toBe('all');
    expect(series!.points.map((p) => [p.time, p.predictions])).toEqual([
      ['2026-11-28T10:30:00.000Z', 1],
      ['2026-11-28T11:00:00.000Z', 0],
      ['2026-11-28T12:00:00.000Z', 0],
      ['2026-11-28T13:00:00.000Z', 9], // the instant `to` itself, in (from, to]
    ]);
  });

  it('one series per requested version, each from its own rows', () => {
    const from = Date.UTC(2026, 10, 28, 10) * 1000;
    const report = timeseries(RULES, from, from + HOUR_US - 1, HOUR_US, ['v1', 'v2']);
    expect(report.query.modelVersions).toEqual(['v1', 'v2']);
    expect(report.query.combineVersionsAs).toBeUndefined(); // not summed in the database
    const series = assembled(report, [piece(0, 'v1', 2), piece(0, 'v2', 5)]);
    expect(series.map((s) => [s.model_version, s.points.map((p) => p.predictions)])).toEqual([['v1', [2]], ['v2', [5]]]);
  });

  it("the fleet as one series ('all' alone, summed in the database) or next to versions (summed here)", () => {
    const from = Date.UTC(2026, 10, 28, 10) * 1000;
    const alone = timeseries(RULES, from, from + HOUR_US - 1, HOUR_US);
    expect([alone.query.modelVersions, alone.query.combineVersionsAs]).toEqual([undefined, 'all']);
    expect(assembled(alone, [piece(0, 'all', 7)])[0]!.points[0]!.predictions).toBe(7);
    const mixed = timeseries(RULES, from, from + HOUR_US - 1, HOUR_US, ['all', 'v1']);
    expect([mixed.query.modelVersions, mixed.query.combineVersionsAs]).toEqual([undefined, undefined]);
    const series = assembled(mixed, [piece(0, 'v1', 2), piece(0, 'v2', 5)]);
    expect(series.map((s) => [s.model_version, s.points.map((p) => p.predictions)])).toEqual([['all', [7]], ['v1', [2]]]);
    const single = timeseries(RULES, from, from + HOUR_US - 1, HOUR_US, ['v2']);
    expect([single.query.modelVersions, single.query.combineVersionsAs]).toEqual([['v2'], undefined]);
    expect(assembled(single, [piece(0, 'v2', 5)])[0]!.points[0]!.predictions).toBe(5);
  });
});

describe('metricsBetween and metricsEndingAt (src/aggregate/reports.ts)', () => {
  it('read (from, to] and report it as asked, for one version or the fleet', () => {
    const from = Date.UTC(2026, 10, 28, 10) * 1000 + 1;
    const to = Date.UTC(2026, 10, 28, 12) * 1000 + 1;
    for (const [version, filter] of [[undefined, undefined], ['all', undefined], ['v1', ['v1']]] as const) {
      const report = metricsBetween(RULES, from, to, version);
      expect(report.query).toEqual({ boundaries: [from + 1, to + 1], modelVersions: filter, combineVersionsAs: 'all', anomalyThresholdMinutes: 5 });
      expect(assembled(report, [piece(0, 'all', 3)])).toMatchObject({
        predictions: 3,
        period_hours: 2,
        from: '2026-11-28T10:00:00.000Z',
        to: '2026-11-28T12:00:00.000Z',
      });
    }
    const [hour, day] = assembled(metricsEndingAt(RULES, NOW, [HOUR_US, DAY_US] as const), [piece(0, 'v1', 2), piece(1, 'v2', 1)]);
    expect([hour.predictions, hour.period_hours, day.predictions, day.period_hours]).toEqual([1, 1, 3, 24]);
  });
});
