import {
  buildRequests,
  daysCovering,
  MAX_POINTS_IN_ALL,
  MAX_POINTS_PER_SERIES,
  parseModelVersions,
  QueryContext,
  resolveQueryType,
  timeseriesStepSeconds,
} from './requests';
import { MlmonQuery, QueryType } from './types';

const FROM = Date.parse('2026-03-01T10:00:00Z');
const TO = Date.parse('2026-03-01T16:00:00Z');
const NOW = Date.parse('2026-03-03T12:00:00Z');
const context: QueryContext = { fromMs: FROM, toMs: TO, intervalMs: 30_000, nowMs: NOW };

const query = (fields: Partial<MlmonQuery>): MlmonQuery => ({ refId: 'A', ...fields });

describe('parseModelVersions', () => {
  it('treats empty input as the whole fleet', () => {
    expect(parseModelVersions(undefined)).toEqual([]);
    expect(parseModelVersions('')).toEqual([]);
    expect(parseModelVersions(' , ')).toEqual([]);
  });

  it('splits, trims and de-duplicates a comma-separated list', () => {
    expect(parseModelVersions('v1, v2,v1,,v3 ')).toEqual(['v1', 'v2', 'v3']);
  });

  it('reads *, .* (custom All values) and "all" (the exporter\'s fleet label) alone as the whole fleet', () => {
    expect(parseModelVersions('*')).toEqual([]);
    expect(parseModelVersions('.*')).toEqual([]);
    expect(parseModelVersions('all')).toEqual([]);
    expect(parseModelVersions('all, *')).toEqual([]);
  });

  it('keeps the fleet as a series of its own beside versions (a canary against all traffic)', () => {
    expect(parseModelVersions('all,v2')).toEqual(['all', 'v2']);
    expect(parseModelVersions('v1, *')).toEqual(['all', 'v1']);
    // "Include All" of a label_values variable: every label value, "all" and "other" among them
    expect(parseModelVersions('all,other,v1,v2')).toEqual(['all', 'v1', 'v2']);
  });

  it('refuses "other" (the exporter\'s label for versions past its limit) picked without the fleet', () => {
    expect(() => parseModelVersions('other')).toThrow(/MLMON_MAX_MODEL_VERSIONS.*\/model-versions/);
    expect(() => parseModelVersions('v1,other')).toThrow(/"other"/);
    expect(parseModelVersions('other,all')).toEqual([]);
  });
});

describe('timeseriesStepSeconds', () => {
  it('rounds the panel interval up to whole minutes, at least one', () => {
    expect(timeseriesStepSeconds(1_000, FROM, TO)).toBe(60);
    expect(timeseriesStepSeconds(60_000, FROM, TO)).toBe(60);
    expect(timeseriesStepSeconds(90_000, FROM, TO)).toBe(120);
    expect(timeseriesStepSeconds(3_600_000, FROM, TO)).toBe(3600);
  });

  it('widens the step so that a long range stays within the point limit', () => {
    const yearMs = 366 * 86_400_000;
    const step = timeseriesStepSeconds(1_000, 0, yearMs);
    expect(step % 60).toBe(0);
    expect(Math.ceil(yearMs / 1000 / step) + 1).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
    expect(step).toBe(48 * 60); // 527,040 minutes over 10,999 intervals
  });

  it('widens it further for several versions, so that the answer stays within the limit in all', () => {
    const weekMs = 7 * 86_400_000;
    expect(timeseriesStepSeconds(1_000, 0, weekMs, 1)).toBe(60);
    expect(timeseriesStepSeconds(1_000, 0, weekMs, 2)).toBe(60); // 10,081 points each, 20,162 in all
    const step = timeseriesStepSeconds(1_000, 0, weekMs, 50);
    expect(50 * (Math.ceil(weekMs / 1000 / step) + 1)).toBeLessThanOrEqual(MAX_POINTS_IN_ALL);
    expect(step).toBe(23 * 60); // 10,080 minutes over 439 intervals (440 points each)
    // more versions than the limit has points: the widest step; the service then names model_version
    expect(timeseriesStepSeconds(1_000, 0, weekMs, MAX_POINTS_IN_ALL * 2)).toBe(10_080 * 60);
  });
});

describe('daysCovering', () => {
  it('counts UTC days from the day of `from` through today', () => {
    expect(daysCovering(NOW, NOW)).toBe(1);
    expect(daysCovering(FROM, NOW)).toBe(3); // 1, 2 and 3 March
  });

  it('stays within what /daily accepts', () => {
    expect(daysCovering(NOW - 1000 * 86_400_000, NOW)).toBe(366);
    expect(daysCovering(NOW + 86_400_000, NOW)).toBe(1);
  });
});

describe('resolveQueryType', () => {
  it('defaults to the time series', () => {
    expect(resolveQueryType(query({}))).toBe(QueryType.Timeseries);
  });

  it('refuses a type it does not know', () => {
    expect(() => resolveQueryType(query({ queryType: 'forecast' as QueryType }))).toThrow('Unknown mlmon query type "forecast"');
  });
});

describe('buildRequests', () => {
  const range = { from: '2026-03-01T10:00:00.000Z', to: '2026-03-01T16:00:00.000Z' };

  it('timeseries: the panel range, the step from the interval, all versions in one request', () => {
    expect(buildRequests(query({ queryType: QueryType.Timeseries }), { ...context, intervalMs: 300_000 })).toEqual([
      { path: '/timeseries', params: { ...range, step: 300 } },
    ]);
    expect(buildRequests(query({ queryType: QueryType.Timeseries, modelVersion: 'v1,v2' }), context)).toEqual([
      { path: '/timeseries', params: { ...range, step: 60, model_version: 'v1,v2' } },
    ]);
  });

  it('window: /metrics over exactly the panel range, once per version', () => {
    expect(buildRequests(query({ queryType: QueryType.Window }), context)).toEqual([{ path: '/metrics', params: range }]);
    expect(buildRequests(query({ queryType: QueryType.Window, modelVersion: 'v1,v2' }), context)).toEqual([
      { path: '/metrics', params: { ...range, model_version: 'v1' }, modelVersion: 'v1' },
      { path: '/metrics', params: { ...range, model_version: 'v2' }, modelVersion: 'v2' },
    ]);
    // the fleet beside a version: its own request, named as the fleet
    expect(buildRequests(query({ queryType: QueryType.Window, modelVersion: 'all,v2' }), context)).toEqual([
      { path: '/metrics', params: { ...range, model_version: 'all' } },
      { path: '/metrics', params: { ...range, model_version: 'v2' }, modelVersion: 'v2' },
    ]);
  });

  it('daily: days covering the panel range, or the explicit count', () => {
    expect(buildRequests(query({ queryType: QueryType.Daily }), context)).toEqual([{ path: '/daily', params: { days: 3 } }]);
    expect(buildRequests(query({ queryType: QueryType.Daily, days: 30, modelVersion: 'v2' }), context)).toEqual([
      { path: '/daily', params: { days: 30, model_version: 'v2' }, modelVersion: 'v2' },
    ]);
    expect(buildRequests(query({ queryType: QueryType.Daily, days: 5000 }), context)[0]?.params.days).toBe(366);
  });

  it('predictions: the panel range, and the limit defaulted and clamped to what the service accepts', () => {
    expect(buildRequests(query({ queryType: QueryType.Predictions }), context)).toEqual([
      { path: '/predictions', params: { ...range, limit: 100 } },
    ]);
    expect(buildRequests(query({ queryType: QueryType.Predictions, limit: 50_000, modelVersion: 'v1' }), context)).toEqual([
      { path: '/predictions', params: { ...range, limit: 1000, model_version: 'v1' }, modelVersion: 'v1' },
    ]);
  });

  it('anomalies: the panel range, the limit, and the threshold only when set', () => {
    expect(buildRequests(query({ queryType: QueryType.Anomalies }), context)).toEqual([
      { path: '/anomalies', params: { ...range, limit: 1000 } },
    ]);
    expect(buildRequests(query({ queryType: QueryType.Anomalies, threshold: 2.5, limit: 10 }), context)).toEqual([
      { path: '/anomalies', params: { ...range, limit: 10, threshold: 2.5 } },
    ]);
  });

  it('summary: a single request that no filter applies to', () => {
    expect(buildRequests(query({ queryType: QueryType.Summary, modelVersion: 'v1' }), context)).toEqual([
      { path: '/summary', params: {} },
    ]);
    // Not even "other", refused where a filter applies: the summary panel keeps working.
    expect(buildRequests(query({ queryType: QueryType.Summary, modelVersion: 'other' }), context)).toEqual([
      { path: '/summary', params: {} },
    ]);
  });
});
