import type { Sql } from '../db/connect.js';
import { FLEET } from '../validate/limits.js';
import type { ErrorRules } from '../store/contribution.js';
import { metricsOf, type QualityMetrics } from './metrics.js';
import { EMPTY_AGGREGATE, mergeAll, type Aggregate } from './moments.js';
import { readWindow } from './read-window.js';
import { DAY_US, HOUR_US, MICROS_PER_MS, openClosed, type Range } from './window.js';

export interface MetricsReport extends QualityMetrics {
  period_hours: number;
  from: string;
  to: string;
}

export interface DailyReport extends MetricsReport {
  date: string;
}


const isoOf = (us: number) => new Date(Math.floor(us / MICROS_PER_MS)).toISOString();

function report(aggregate: Aggregate, range: Range): MetricsReport {
  return {
    period_hours: (range.end - range.start) / HOUR_US,
    from: isoOf(range.start),
    to: isoOf(range.end),
    ...metricsOf(aggregate),
  };
}

/** A version filter: absent or 'all' is the whole fleet. */
const onlyVersion = (modelVersion: string | undefined) => (modelVersion === undefined || modelVersion === FLEET ? undefined : [modelVersion]);

/** Exact metrics of predictions created in (fromUs, toUs], for one version or the fleet. */
export async function metricsBetween(sql: Sql, rules: ErrorRules, fromUs: number, toUs: number, modelVersion?: string): Promise<MetricsReport> {
  const range = openClosed(fromUs, toUs);
  const parts = await readWindow(sql, {
    range,
    modelVersions: onlyVersion(modelVersion),
    anomalyThresholdMinutes: rules.anomalyThresholdMinutes,
  });
  // Report the window as the user asked for it, (from, to], not the half-open internals.
  return { ...report(mergeAll(parts.map((p) => p.aggregate)), range), from: isoOf(fromUs), to: isoOf(toUs) };
}

/** Exactly `days` UTC calendar days ending today (today ends now), oldest first, empty days included. */
export async function dailyMetrics(sql: Sql, rules: ErrorRules, days: number, nowUs: number, modelVersion?: string): Promise<DailyReport[]> {
  const todayStart = Math.floor(nowUs / DAY_US) * DAY_US;
  const firstDay = todayStart - (days - 1) * DAY_US;
  const parts = await readWindow(sql, {
    range: { start: firstDay, end: nowUs + 1 },
    stepUs: DAY_US,
    modelVersions: onlyVersion(modelVersion),
    anomalyThresholdMinutes: rules.anomalyThresholdMinutes,
  });
  const byDay = groupBySteps(parts);
  return Array.from({ length: days }, (_, i) => {
    const start = firstDay + i * DAY_US;
    const end = Math.min(start + DAY_US, nowUs + 1);
    return { date: isoOf(start).slice(0, 10), ...report(byDay.get(start / DAY_US) ?? EMPTY_AGGREGATE, { start, end }) };
  });
}

/** Merges versions per step bucket (the fleet view). */
function groupBySteps(parts: { step: number; aggregate: Aggregate }[]): Map<number, Aggregate> {
  const grouped = new Map<number, Aggregate[]>();
  for (const { step, aggregate } of parts) grouped.set(step, [...(grouped.get(step) ?? []), aggregate]);
  return new Map([...grouped].map(([step, list]) => [step, mergeAll(list)]));
}

export interface TimeseriesPoint extends QualityMetrics {
  time: string;
}

export interface Timeseries {
  model_version: string;
  points: TimeseriesPoint[];
}

/**
 * Metrics per step bucket over (fromUs, toUs]: buckets [k·step, (k+1)·step) aligned to the epoch,
 * the first and last clipped to the range; every bucket is exact. One series per requested name,
 * 'all' (the default) being the fleet.
 */
export async function timeseries(
  sql: Sql,
  rules: ErrorRules,
  fromUs: number,
  toUs: number,
  stepUs: number,
  modelVersions?: string[],
): Promise<Timeseries[]> {
  const range = openClosed(fromUs, toUs);
  const names = modelVersions ?? [FLEET];
  const filter = names.includes(FLEET) ? undefined : names;
  const parts = await readWindow(sql, { range, stepUs, modelVersions: filter, anomalyThresholdMinutes: rules.anomalyThresholdMinutes });
  const firstStep = Math.floor(range.start / stepUs);
  const lastStep = Math.floor((range.end - 1) / stepUs);
  const series = (name: string, bySteps: Map<number, Aggregate>): Timeseries => ({
    model_version: name,
    points: Array.from({ length: lastStep - firstStep + 1 }, (_, i) => {
      const step = firstStep + i;
      return { time: isoOf(Math.max(step * stepUs, fromUs)), ...metricsOf(bySteps.get(step) ?? EMPTY_AGGREGATE) };
    }),
  });
  return names.map((name) => series(name, groupBySteps(name === FLEET ? parts : parts.filter((p) => p.modelVersion === name))));
}

/** Per-version aggregates of a window plus the fleet total under the name 'all'. */
export async function windowByVersion(sql: Sql, rules: ErrorRules, range: Range): Promise<Map<string, Aggregate>> {
  const parts = await readWindow(sql, { range, anomalyThresholdMinutes: rules.anomalyThresholdMinutes });
  const result = new Map(parts.map((p) => [p.modelVersion, p.aggregate]));
  result.set(FLEET, mergeAll(parts.map((p) => p.aggregate)));
  return result;
}
