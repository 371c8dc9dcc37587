import { MlmonQuery, QueryType } from './types';

/** One HTTP GET to the service, relative to its read API base path. */
export interface ApiRequest {
  path: string;
  params: Record<string, string | number>;
  /** The single model version this request is filtered on, used to name the resulting frame. */
  modelVersion?: string;
}

/** What a query needs from Grafana's request besides the query itself. */
export interface QueryContext {
  /** Panel time range, epoch milliseconds. */
  fromMs: number;
  toMs: number;
  /** Panel interval chosen by Grafana from the range and the panel width (or the min interval). */
  intervalMs: number;
  nowMs: number;
}

/** `GET /timeseries` returns at most this many points per series, and this many in all. */
export const MAX_POINTS_PER_SERIES = 11_000;
export const MAX_POINTS_IN_ALL = 22_000;
export const DEFAULT_PREDICTIONS_LIMIT = 100;
const MAX_PREDICTIONS_LIMIT = 1000;
export const DEFAULT_ANOMALIES_LIMIT = 1000;
const MAX_ANOMALIES_LIMIT = 10_000;
const MAX_DAYS = 366;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** What the service calls the fleet: in its filters, its `/timeseries` series and its gauges' label. */
export const FLEET = 'all';

/**
 * Values that stand for "the whole fleet" among model versions: `*` and `.*` (custom All values of
 * variables) and `all`, the name the service's Prometheus gauges and `/timeseries` give the fleet,
 * so a variable filled from `label_values(..., model_version)` works here too.
 */
const FLEET_MARKERS: readonly string[] = ['*', '.*', FLEET];
/**
 * The label the service's Prometheus series give the versions past its per-version limit: a
 * variable filled from `label_values` offers it, but it names no stored version.
 */
const OVERFLOW_LABEL = 'other';

/**
 * Splits an interpolated model version filter into versions; an empty list means the whole fleet
 * alone. Multi-value variables arrive comma-joined (see the datasource's interpolation). The fleet
 * picked beside versions stays a series of its own (a canary against all traffic).
 */
export function parseModelVersions(value: string | undefined): string[] {
  const entries = [...new Set((value ?? '').split(',').map((part) => part.trim()).filter(Boolean))];
  const fleet = entries.some((entry) => FLEET_MARKERS.includes(entry));
  let versions = entries.filter((entry) => !FLEET_MARKERS.includes(entry));
  if (versions.includes(OVERFLOW_LABEL)) {
    if (!fleet) {
      // The service would answer an empty version, and the panel would look like a dead model.
      throw new Error(
        `"${OVERFLOW_LABEL}" groups the model versions past MLMON_MAX_MODEL_VERSIONS on the Prometheus panels; ` +
          'mlmon stores no version of that name: choose a version (GET /model-versions lists them) or "all"',
      );
    }
    // "Include All" of a label_values variable brings it along with "all": the fleet covers it.
    versions = versions.filter((version) => version !== OVERFLOW_LABEL);
  }
  if (versions.length === 0) {
    return [];
  }
  return fleet ? [FLEET, ...versions] : versions;
}

/**
 * Bucket width for `/timeseries`: the panel interval rounded up to whole minutes (the service
 * requires a multiple of 60 s), widened when the range would otherwise exceed the point limits
 * for `series` series. A range of R seconds aligned to buckets of S seconds touches at most
 * ceil(R / S) + 1 buckets.
 */
export function timeseriesStepSeconds(intervalMs: number, fromMs: number, toMs: number, series = 1): number {
  const pointsPerSeries = Math.min(MAX_POINTS_PER_SERIES, Math.floor(MAX_POINTS_IN_ALL / Math.max(1, series)));
  const rangeMinutes = Math.max(0, toMs - fromMs) / MINUTE_MS;
  const minutes = Math.max(1, Math.ceil(intervalMs / MINUTE_MS), Math.ceil(rangeMinutes / Math.max(1, pointsPerSeries - 1)));
  return minutes * 60;
}

/** Number of UTC days, ending today, needed for `/daily` to include the day of `fromMs`. */
export function daysCovering(fromMs: number, nowMs: number): number {
  const days = Math.floor(nowMs / DAY_MS) - Math.floor(fromMs / DAY_MS) + 1;
  return clamp(days, 1, MAX_DAYS);
}

const QUERY_TYPES: ReadonlySet<string> = new Set(Object.values(QueryType));

/** The query's type, defaulting to time series; a stored query of an unknown type is an error, not a guess. */
/** What a query without a type asks for (a new panel's query). */
export const DEFAULT_QUERY_TYPE = QueryType.Timeseries;

export function resolveQueryType(query: MlmonQuery): QueryType {
  const queryType = query.queryType ?? DEFAULT_QUERY_TYPE;
  if (!QUERY_TYPES.has(queryType)) {
    throw new Error(`Unknown mlmon query type "${queryType}"; pick one in the query editor.`);
  }
  return queryType;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}

function isoRange(context: QueryContext): { from: string; to: string } {
  return { from: new Date(context.fromMs).toISOString(), to: new Date(context.toMs).toISOString() };
}

/**
 * One request per selected model version (the endpoint filters on a single version), or a single
 * fleet-wide request when none is selected.
 */
function perModelVersion(path: string, params: ApiRequest['params'], versions: string[]): ApiRequest[] {
  if (versions.length === 0) {
    return [{ path, params }];
  }
  // The fleet's request is named as the fleet alone would be ("All versions"), not "all".
  return versions.map((modelVersion) => ({ path, params: { ...params, model_version: modelVersion }, ...(modelVersion === FLEET ? {} : { modelVersion }) }));
}

/**
 * Maps a query whose template variables are already interpolated to the service requests that
 * answer it. The panel's time range always travels as from/to (or as days covering it for `/daily`).
 */
export function buildRequests(query: MlmonQuery, context: QueryContext): ApiRequest[] {
  const queryType = resolveQueryType(query);
  // The summary is fleet-wide: a version filter left on it (e.g. "other") is not read, so not refused.
  const versions = queryType === QueryType.Summary ? [] : parseModelVersions(query.modelVersion);
  switch (queryType) {
    case QueryType.Timeseries: {
      const params: ApiRequest['params'] = {
        ...isoRange(context),
        step: timeseriesStepSeconds(context.intervalMs, context.fromMs, context.toMs, Math.max(1, versions.length)),
      };
      // This endpoint takes the whole list at once and answers one series per version.
      if (versions.length > 0) {
        params.model_version = versions.join(',');
      }
      return [{ path: '/timeseries', params }];
    }
    case QueryType.Window:
      return perModelVersion('/metrics', isoRange(context), versions);
    case QueryType.Daily: {
      const days = query.days ? clamp(query.days, 1, MAX_DAYS) : daysCovering(context.fromMs, context.nowMs);
      return perModelVersion('/daily', { days }, versions);
    }
    case QueryType.Predictions: {
      const limit = clamp(query.limit ?? DEFAULT_PREDICTIONS_LIMIT, 1, MAX_PREDICTIONS_LIMIT);
      return perModelVersion('/predictions', { ...isoRange(context), limit }, versions);
    }
    case QueryType.Anomalies: {
      const params: ApiRequest['params'] = {
        ...isoRange(context),
        limit: clamp(query.limit ?? DEFAULT_ANOMALIES_LIMIT, 1, MAX_ANOMALIES_LIMIT),
      };
      if (query.threshold !== undefined) {
        params.threshold = query.threshold;
      }
      return perModelVersion('/anomalies', params, versions);
    }
    case QueryType.Summary:
      return [{ path: '/summary', params: {} }];
  }
}
