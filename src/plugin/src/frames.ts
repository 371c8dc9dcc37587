import { AnnotationEvent, createDataFrame, DataFrame, DataFrameType, Field, FieldConfig, FieldType } from '@grafana/data';

import { MetricDefinition, METRICS, selectMetrics } from './metrics';
import { ApiRequest, FLEET, QueryContext, resolveQueryType } from './requests';
import {
  DailyMetricsObject,
  MetricName,
  MetricsObject,
  MlmonQuery,
  QueryType,
  StoredPrediction,
  SummaryResponse,
  TimeseriesResponse,
} from './types';

/** Frame name and legend suffix when results cover every model version together. */
export const FLEET_NAME = 'All versions';

const DAY_MS = 86_400_000;

type FieldInput = Pick<Field, 'name' | 'type' | 'values'> & { config?: FieldConfig; labels?: Field['labels'] };

function parseTime(iso: string | null): number | null {
  return iso === null ? null : Date.parse(iso);
}

/** Legends must tell versions apart when a query returns several of them. */
function seriesDisplayName(displayName: string, modelVersion: string | undefined): string {
  return modelVersion ? `${displayName} ${modelVersion}` : displayName;
}

function metricField(metric: MetricDefinition, values: Array<number | null>, modelVersion?: string): FieldInput {
  return {
    name: metric.name,
    type: FieldType.number,
    values,
    labels: modelVersion ? { model_version: modelVersion } : undefined,
    config: {
      displayNameFromDS: seriesDisplayName(metric.displayName, modelVersion),
      unit: metric.unit,
      decimals: metric.decimals,
      description: metric.description,
    },
  };
}

/**
 * One wide time series frame per series: a bucket start time field and one field per metric.
 * The service names the fleet's series "all", alone or beside the versions asked for.
 */
function timeseriesFrames(response: TimeseriesResponse, refId: string, requested: MetricName[] | undefined): DataFrame[] {
  const metrics = selectMetrics(requested);
  return response.series.map((series) => {
    const modelVersion = series.model_version === FLEET ? undefined : series.model_version;
    return createDataFrame({
      refId,
      name: modelVersion ?? FLEET_NAME,
      meta: { type: DataFrameType.TimeSeriesWide },
      fields: [
        {
          name: 'time',
          type: FieldType.time,
          values: series.points.map((point) => Date.parse(point.time)),
          config: { displayNameFromDS: 'Time', interval: response.step_seconds * 1000 },
        },
        ...metrics.map((metric) => metricField(metric, series.points.map((point) => point[metric.name] ?? null), modelVersion)),
      ],
    });
  });
}

/** A single row of metrics over the whole panel range, the shape stat and gauge panels expect. */
function windowFrame(metrics: MetricsObject, refId: string, requested?: MetricName[], modelVersion?: string): DataFrame {
  return createDataFrame({
    refId,
    name: modelVersion ?? FLEET_NAME,
    meta: { type: DataFrameType.NumericWide },
    fields: selectMetrics(requested).map((metric) => metricField(metric, [metrics[metric.name]], modelVersion)),
  });
}

/**
 * One row per UTC day. When `keepWithin` is given (the panel range, because the days were derived
 * from it), days that do not overlap that range are dropped: `/daily` always ends today.
 */
function dailyFrame(
  days: DailyMetricsObject[],
  refId: string,
  requested?: MetricName[],
  modelVersion?: string,
  keepWithin?: { fromMs: number; toMs: number },
): DataFrame {
  const kept = days.filter((day) => {
    if (!keepWithin) {
      return true;
    }
    const startMs = Date.parse(`${day.date}T00:00:00Z`);
    return startMs + DAY_MS > keepWithin.fromMs && startMs <= keepWithin.toMs;
  });
  return createDataFrame({
    refId,
    name: modelVersion ?? FLEET_NAME,
    meta: { type: DataFrameType.TimeSeriesWide },
    fields: [
      {
        name: 'date',
        type: FieldType.time,
        values: kept.map((day) => Date.parse(`${day.date}T00:00:00Z`)),
        config: { displayNameFromDS: 'Time', interval: DAY_MS },
      },
      // Grafana shows a time field in the dashboard's time zone, so a UTC day would read as the evening
      // before west of UTC; tables show this text instead (and hide `date`).
      { name: 'day', type: FieldType.string, values: kept.map((day) => day.date), config: { displayNameFromDS: 'Day (UTC)' } },
      ...selectMetrics(requested).map((metric) => metricField(metric, kept.map((day) => day[metric.name]), modelVersion)),
    ],
  });
}

interface PredictionColumn {
  name: keyof StoredPrediction;
  type: FieldType;
  displayName: string;
  unit?: string;
}

/** Table columns of a stored prediction, most useful first. */
const PREDICTION_COLUMNS: readonly PredictionColumn[] = [
  { name: 'created_at', type: FieldType.time, displayName: 'Time' },
  { name: 'booking_id', type: FieldType.number, displayName: 'Booking', unit: 'none' },
  { name: 'driver_id', type: FieldType.number, displayName: 'Driver', unit: 'none' },
  { name: 'model_version', type: FieldType.string, displayName: 'Model version' },
  { name: 'risk_level', type: FieldType.string, displayName: 'Risk' },
  { name: 'predicted_delay_minutes', type: FieldType.number, displayName: 'Predicted delay', unit: 'm' },
  { name: 'actual_delay_minutes', type: FieldType.number, displayName: 'Actual delay', unit: 'm' },
  { name: 'prediction_error', type: FieldType.number, displayName: 'Error', unit: 'm' },
  { name: 'is_accurate', type: FieldType.boolean, displayName: 'Accurate' },
  { name: 'confidence', type: FieldType.number, displayName: 'Confidence', unit: 'percentunit' },
  { name: 'prediction_time_ms', type: FieldType.number, displayName: 'Latency', unit: 'ms' },
  { name: 'feature_flag_enabled', type: FieldType.boolean, displayName: 'Feature flag' },
  { name: 'traffic_percentage', type: FieldType.number, displayName: 'Traffic', unit: 'percent' },
  { name: 'contributing_factors', type: FieldType.other, displayName: 'Contributing factors' },
  { name: 'request_id', type: FieldType.string, displayName: 'Request ID' },
  { name: 'actual_pickup_at', type: FieldType.time, displayName: 'Actual pickup' },
  { name: 'actual_dropoff_at', type: FieldType.time, displayName: 'Actual drop-off' },
  { name: 'updated_at', type: FieldType.time, displayName: 'Updated' },
  { name: 'id', type: FieldType.string, displayName: 'ID' },
];

function predictionValue(prediction: StoredPrediction, column: PredictionColumn): unknown {
  const value = prediction[column.name];
  if (value === null || value === undefined) {
    return null;
  }
  if (column.type === FieldType.time) {
    return parseTime(value as string);
  }
  // An id is a label, not a quantity: as text, Grafana shows it without thousands separators or units.
  return column.name === 'id' ? String(value) : value;
}

/** A table of predictions (recent predictions and anomalies), newest first as the service sends them. */
export function predictionsFrame(predictions: StoredPrediction[], refId: string, modelVersion?: string): DataFrame {
  return createDataFrame({
    refId,
    name: modelVersion ?? FLEET_NAME,
    meta: { preferredVisualisationType: 'table' },
    fields: PREDICTION_COLUMNS.map((column) => ({
      name: column.name,
      type: column.type,
      values: predictions.map((prediction) => predictionValue(prediction, column)),
      config: { displayNameFromDS: column.displayName, unit: column.unit },
    })),
  });
}

function summaryField(name: string, displayName: string, type: FieldType, value: unknown, unit?: string, decimals?: number): FieldInput {
  return { name, type, values: [value], config: { displayNameFromDS: displayName, unit, decimals } };
}

/** One row with the totals, the feature flag, and every metric over 24 h and 7 d (`mae_24h`, `mae_7d`, ...). */
function summaryFrame(summary: SummaryResponse, refId: string): DataFrame {
  const flags = summary.feature_flags;
  const windowFields = (suffix: '24h' | '7d', label: string, metrics: MetricsObject) =>
    METRICS.map((metric) =>
      summaryField(`${metric.name}_${suffix}`, `${metric.displayName} (${label})`, FieldType.number, metrics[metric.name], metric.unit, metric.decimals),
    );
  return createDataFrame({
    refId,
    name: 'Summary',
    fields: [
      summaryField('timestamp', 'Time', FieldType.time, parseTime(summary.timestamp)),
      summaryField('total_predictions', 'Total predictions', FieldType.number, summary.total_predictions, 'short', 0),
      summaryField('anomalies_count', 'Anomalies (24 h)', FieldType.number, summary.anomalies_count, 'short', 0),
      summaryField('ml_enabled', 'ML enabled', FieldType.boolean, flags.ml_enabled),
      summaryField('ml_traffic_percentage', 'ML traffic', FieldType.number, flags.ml_traffic_percentage, 'percent', 0),
      summaryField('ml_requests', 'ML requests (24 h)', FieldType.number, flags.ml_requests, 'short', 0),
      summaryField('ml_successes', 'ML successes (24 h)', FieldType.number, flags.ml_successes, 'short', 0),
      summaryField('ml_failures', 'ML failures (24 h)', FieldType.number, flags.ml_failures, 'short', 0),
      summaryField('ml_success_rate', 'ML success rate (24 h)', FieldType.number, flags.ml_success_rate, 'percentunit', 1),
      ...windowFields('24h', '24 h', summary.metrics_24h),
      ...windowFields('7d', '7 d', summary.metrics_7d),
    ],
  });
}

/** Grafana turns a frame with `text` and `value` string fields into variable options. */
export function modelVersionsFrame(versions: string[]): DataFrame {
  return createDataFrame({
    fields: [
      { name: 'text', type: FieldType.string, values: versions },
      { name: 'value', type: FieldType.string, values: versions },
    ],
  });
}

function columnValues(frame: DataFrame, name: keyof StoredPrediction): unknown[] | undefined {
  return frame.fields.find((field) => field.name === name)?.values;
}

function formatMinutes(value: unknown): string {
  return typeof value === 'number' ? `${value.toFixed(1)} min` : 'n/a';
}

/**
 * Anomaly rows as annotation events: one marker per prediction at its creation time. Frames
 * without prediction columns (other query types) yield no events.
 */
export function anomalyEvents(frames: DataFrame[]): AnnotationEvent[] {
  return frames.flatMap((frame) => {
    const times = columnValues(frame, 'created_at');
    const errors = columnValues(frame, 'prediction_error');
    if (!times || !errors) {
      return [];
    }
    const bookings = columnValues(frame, 'booking_id') ?? [];
    const predicted = columnValues(frame, 'predicted_delay_minutes') ?? [];
    const actual = columnValues(frame, 'actual_delay_minutes') ?? [];
    const versions = columnValues(frame, 'model_version') ?? [];
    const risks = columnValues(frame, 'risk_level') ?? [];
    return times.map((time, row) => ({
      time: time as number,
      title: `Anomaly: error ${formatMinutes(errors[row])}`,
      text:
        `Booking ${String(bookings[row])}: predicted ${formatMinutes(predicted[row])}, ` +
        `actual ${formatMinutes(actual[row])} (model ${String(versions[row] ?? 'unknown')}, risk ${String(risks[row] ?? 'n/a')})`,
      tags: ['anomaly', ...[versions[row], risks[row]].filter((tag): tag is string => typeof tag === 'string')],
    }));
  });
}

/**
 * Maps the body the service returned for one request of `query` (see buildRequests) to frames.
 * The body is trusted to have the documented shape; the contract test holds the service to it.
 */
export function toFrames(query: MlmonQuery, request: ApiRequest, body: unknown, context: QueryContext): DataFrame[] {
  const { refId, metrics } = query;
  const { modelVersion } = request;
  switch (resolveQueryType(query)) {
    case QueryType.Timeseries:
      return timeseriesFrames(body as TimeseriesResponse, refId, metrics);
    case QueryType.Window:
      return [windowFrame(body as MetricsObject, refId, metrics, modelVersion)];
    case QueryType.Daily: {
      // Days derived from the panel range are trimmed to it; an explicit day count is shown whole.
      const keepWithin = query.days ? undefined : { fromMs: context.fromMs, toMs: context.toMs };
      return [dailyFrame(body as DailyMetricsObject[], refId, metrics, modelVersion, keepWithin)];
    }
    case QueryType.Predictions:
    case QueryType.Anomalies:
      return [predictionsFrame(body as StoredPrediction[], refId, modelVersion)];
    case QueryType.Summary:
      return [summaryFrame(body as SummaryResponse, refId)];
  }
}
