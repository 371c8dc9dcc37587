import { FLEET, isFleet } from '../validate/limits.js';
import type { ErrorRules } from './contribution.js';
import { metricsOf, rounded, type QualityMetrics } from './metrics.js';
import { EMPTY_AGGREGATE, merge, mergeAll, type Aggregate } from './moments.js';
import { DAY_US, floorTo, HOUR_US, MICROS_PER_MS, openClosed, type Range } from './window.js';

export interface PiecesQuery {
  /**
   * Epoch microseconds b0 <= b1 <= ... <= bn: the pieces [b0, b1), [b1, b2), ... are summed
   * separately (the days of /daily, the disjoint parts of nested windows). A piece may be empty
   * (?hours=5e-324 is a window shorter than a microsecond).
   */
  boundaries: number[];
  /** Restrict to these versions; absent = every version. */
  modelVersions?: string[];
  /**
   * Sum the versions into one series per piece, named by this (the fleet), in the database: a
   * third of the rows to send and parse with three versions.
   */
  combineVersionsAs?: string;
  anomalyThresholdMinutes: number;
}

export interface VersionPieceAggregate {
  modelVersion: string;
  /** Index of the piece: i for [b_i, b_i+1). */
  piece: number;
  aggregate: Aggregate;
}

/**
 * A report over pieces of time, kept free of I/O: the pieces it needs, and how it is merged from
 * the pieces read (store/read-window.ts reads them, in one query).
 */
export interface PieceReport<T> {
  query: PiecesQuery;
  assemble(pieces: VersionPieceAggregate[]): T;
}

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
    period_hours: rounded((range.end - range.start) / HOUR_US),
    from: isoOf(range.start),
    to: isoOf(range.end),
    ...metricsOf(aggregate),
  };
}

/** A version filter: absent or 'all' is the whole fleet. */
const onlyVersion = (modelVersion: string | undefined) => (isFleet(modelVersion) ? undefined : [modelVersion]);

/** The window as the user asked for it, (from, to], not the half-open internals. */
function windowReport(aggregate: Aggregate, fromUs: number, toUs: number): MetricsReport {
  return { ...report(aggregate, openClosed(fromUs, toUs)), from: isoOf(fromUs), to: isoOf(toUs) };
}

/** Exact metrics of predictions created in (fromUs, toUs], for one version or the fleet. */
export function metricsBetween(rules: ErrorRules, fromUs: number, toUs: number, modelVersion?: string): PieceReport<MetricsReport> {
  const { start, end } = openClosed(fromUs, toUs);
  return {
    query: {
      boundaries: [start, end],
      modelVersions: onlyVersion(modelVersion),
      combineVersionsAs: FLEET,
      anomalyThresholdMinutes: rules.anomalyThresholdMinutes,
    },
    assemble: (pieces) => windowReport(mergeAll(pieces.map((p) => p.aggregate)), fromUs, toUs),
  };
}

/** Fleet metrics of windows (nowUs - length, nowUs], in the order of `lengthsUs`, from one query. */
export function metricsEndingAt<const Lengths extends readonly number[]>(
  rules: ErrorRules,
  nowUs: number,
  lengthsUs: Lengths,
): PieceReport<{ [K in keyof Lengths]: MetricsReport }> {
  const windows = trailingWindows(rules, nowUs, lengthsUs);
  return {
    query: windows.query,
    assemble: (pieces) => {
      const byLength = windows.assemble(pieces);
      return lengthsUs.map((length, i) => windowReport(byLength[i]!.get(FLEET)!, nowUs - length, nowUs)) as { [K in keyof Lengths]: MetricsReport };
    },
  };
}

/** Exactly `days` UTC calendar days ending today (today ends now), oldest first, empty days included. */
export function dailyMetrics(rules: ErrorRules, days: number, nowUs: number, modelVersion?: string): PieceReport<DailyReport[]> {
  const todayStart = floorTo(nowUs, DAY_US);
  const starts = Array.from({ length: days }, (_, i) => todayStart - (days - 1 - i) * DAY_US);
  return {
    query: {
      boundaries: [...starts, nowUs + 1],
      modelVersions: onlyVersion(modelVersion),
      combineVersionsAs: FLEET,
      anomalyThresholdMinutes: rules.anomalyThresholdMinutes,
    },
    assemble: (pieces) => {
      const byDay = fleetByPiece(pieces);
      return starts.map((start, i) => {
        const end = Math.min(start + DAY_US, nowUs + 1);
        return { date: isoOf(start).slice(0, 10), ...report(byDay.get(i) ?? EMPTY_AGGREGATE, { start, end }) };
      });
    },
  };
}

/** Merges versions per piece (the fleet view). */
function fleetByPiece(parts: VersionPieceAggregate[]): Map<number, Aggregate> {
  const grouped = new Map<number, Aggregate[]>();
  for (const { piece, aggregate } of parts) grouped.set(piece, [...(grouped.get(piece) ?? []), aggregate]);
  return new Map([...grouped].map(([piece, list]) => [piece, mergeAll(list)]));
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
export function timeseries(rules: ErrorRules, fromUs: number, toUs: number, stepUs: number, modelVersions?: string[]): PieceReport<Timeseries[]> {
  const range = openClosed(fromUs, toUs);
  const names = modelVersions ?? [FLEET];
  const filter = names.includes(FLEET) ? undefined : names;
  const firstStep = Math.floor(range.start / stepUs);
  const lastStep = Math.floor((range.end - 1) / stepUs);
  // Piece i is step bucket firstStep + i, clipped to the range.
  const inner = Array.from({ length: lastStep - firstStep }, (_, i) => (firstStep + 1 + i) * stepUs);
  const series = (name: string, byPiece: Map<number, Aggregate>): Timeseries => ({
    model_version: name,
    points: Array.from({ length: lastStep - firstStep + 1 }, (_, i) => ({
      time: isoOf(Math.max((firstStep + i) * stepUs, fromUs)),
      ...metricsOf(byPiece.get(i) ?? EMPTY_AGGREGATE),
    })),
  });
  return {
    query: {
      boundaries: [range.start, ...inner, range.end],
      modelVersions: filter,
      combineVersionsAs: names.length === 1 && names[0] === FLEET ? FLEET : undefined,
      anomalyThresholdMinutes: rules.anomalyThresholdMinutes,
    },
    assemble: (pieces) => names.map((name) => series(name, fleetByPiece(name === FLEET ? pieces : pieces.filter((p) => p.modelVersion === name)))),
  };
}

/**
 * Per-version aggregates of nested windows (nowUs - length, nowUs], plus the fleet under 'all',
 * in the order of `lengthsUs`, from one query: the windows are cut into disjoint pieces, each
 * read once, and every window is the exact merge of the pieces it covers.
 */
export function trailingWindows(rules: ErrorRules, nowUs: number, lengthsUs: readonly number[]): PieceReport<Map<string, Aggregate>[]> {
  const longestFirst = [...new Set(lengthsUs)].sort((a, b) => b - a);
  return {
    query: {
      boundaries: [...longestFirst.map((length) => openClosed(nowUs - length, nowUs).start), nowUs + 1],
      anomalyThresholdMinutes: rules.anomalyThresholdMinutes,
    },
    assemble: (pieces) => {
      // The window of longestFirst[i] covers pieces i and after.
      const byLength = new Map(
        longestFirst.map((length, i) => {
          const covered = pieces.filter((p) => p.piece >= i);
          const byVersion = new Map<string, Aggregate>();
          for (const { modelVersion, aggregate } of covered) byVersion.set(modelVersion, merge(byVersion.get(modelVersion) ?? EMPTY_AGGREGATE, aggregate));
          byVersion.set(FLEET, mergeAll(covered.map((p) => p.aggregate)));
          return [length, byVersion];
        }),
      );
      return lengthsUs.map((length) => byLength.get(length)!);
    },
  };
}
