import { DataFrame, DataFrameType, Field, FieldType } from '@grafana/data';

import {
  dailyMetrics,
  metricsObject,
  storedPrediction,
  summaryResponse,
  timeseriesResponse,
} from '../tests/support/fixtures';
import { anomalyEvents, FLEET_NAME, modelVersionsFrame, predictionsFrame, toFrames } from './frames';
import { METRICS } from './metrics';
import { ApiRequest, QueryContext } from './requests';
import { MlmonQuery, QueryType } from './types';

const context: QueryContext = {
  fromMs: Date.parse('2026-03-01T10:00:00Z'),
  toMs: Date.parse('2026-03-02T16:00:00Z'),
  intervalMs: 60_000,
  nowMs: Date.parse('2026-03-03T12:00:00Z'),
};

function field(frame: DataFrame | undefined, name: string): Field {
  const found = frame?.fields.find((candidate) => candidate.name === name);
  if (!found) {
    throw new Error(`no field ${name} in ${frame?.fields.map((candidate) => candidate.name).join(', ')}`);
  }
  return found;
}

const query = (fields: Partial<MlmonQuery>): MlmonQuery => ({ refId: 'Q', ...fields });
const fleetRequest = (path: string): ApiRequest => ({ path, params: {} });
const versionRequest = (path: string, modelVersion: string): ApiRequest => ({
  path,
  params: { model_version: modelVersion },
  modelVersion,
});

describe('timeseries frames', () => {
  const request: ApiRequest = { path: '/timeseries', params: { model_version: 'v1,v2' } };

  it('makes one wide frame per series with a time field and typed metric fields', () => {
    const frames = toFrames(query({ queryType: QueryType.Timeseries }), request, timeseriesResponse, context);
    expect(frames.map((frame) => [frame.name, frame.refId, frame.length])).toEqual([
      ['v1', 'Q', 2],
      ['v2', 'Q', 1],
    ]);
    const [v1] = frames;
    expect(v1?.meta?.type).toBe(DataFrameType.TimeSeriesWide);
    const time = field(v1, 'time');
    expect(time.type).toBe(FieldType.time);
    expect(time.values).toEqual([Date.parse('2026-03-01T10:00:00Z'), Date.parse('2026-03-01T10:05:00Z')]);
    expect(time.config.interval).toBe(300_000);
    expect(v1?.fields.map((candidate) => candidate.name)).toEqual(['time', ...METRICS.map((metric) => metric.name)]);
  });

  it('keeps empty buckets as nulls and names, labels and units each metric', () => {
    const [v1] = toFrames(query({}), request, timeseriesResponse, context);
    const mae = field(v1, 'mae');
    expect(mae.type).toBe(FieldType.number);
    expect(mae.values).toEqual([2, null]);
    expect(mae.labels).toEqual({ model_version: 'v1' });
    expect(mae.config).toMatchObject({ displayNameFromDS: 'MAE v1', unit: 'm' });
    expect(field(v1, 'accuracy_rate').config.unit).toBe('percentunit');
    expect(field(v1, 'avg_prediction_time_ms').config.unit).toBe('ms');
    expect(field(v1, 'r2').config.displayNameFromDS).toBe('R² v1');
  });

  it('returns only the requested metrics', () => {
    const [v1] = toFrames(query({ metrics: ['r2', 'mae'] }), request, timeseriesResponse, context);
    expect(v1?.fields.map((candidate) => candidate.name)).toEqual(['time', 'mae', 'r2']);
  });

  it('names the fleet series as the fleet beside the versions asked for too', () => {
    const both = { ...timeseriesResponse, series: [{ ...timeseriesResponse.series[0]!, model_version: 'all' }, timeseriesResponse.series[0]!] };
    const frames = toFrames(query({}), { path: '/timeseries', params: { model_version: 'all,v1' } }, both, context);
    expect(frames.map((frame) => frame.name)).toEqual([FLEET_NAME, 'v1']);
  });

  it('names the fleet series without a version suffix or label', () => {
    const fleet = { ...timeseriesResponse, series: [{ ...timeseriesResponse.series[0]!, model_version: 'all' }] };
    const [frame] = toFrames(query({}), { path: '/timeseries', params: {} }, fleet, context);
    expect(frame?.name).toBe(FLEET_NAME);
    expect(field(frame, 'mae').config.displayNameFromDS).toBe('MAE');
    expect(field(frame, 'mae').labels).toBeUndefined();
  });
});

describe('window frame', () => {
  it('is one numeric row per version, for stat panels', () => {
    const [frame] = toFrames(query({ queryType: QueryType.Window }), versionRequest('/metrics', 'v2'), metricsObject(), context);
    expect(frame?.length).toBe(1);
    expect(frame?.name).toBe('v2');
    expect(frame?.meta?.type).toBe(DataFrameType.NumericWide);
    expect(field(frame, 'mae').values).toEqual([2.4]);
    expect(field(frame, 'accuracy_rate').values).toEqual([0.8]);
    expect(field(frame, 'predictions').config).toMatchObject({ displayNameFromDS: 'Predictions v2', decimals: 0 });
  });

  it('keeps a missing value as null rather than zero', () => {
    const [frame] = toFrames(query({ queryType: QueryType.Window, metrics: ['r2'] }), fleetRequest('/metrics'), metricsObject({ r2: null }), context);
    expect(frame?.fields.map((candidate) => candidate.name)).toEqual(['r2']);
    expect(field(frame, 'r2').values).toEqual([null]);
  });
});

describe('daily frame', () => {
  const days = ['2026-02-28', '2026-03-01', '2026-03-02', '2026-03-03'].map((date, index) => dailyMetrics(date, { mae: index + 1 }));

  it('has a UTC day time field and keeps only the days overlapping the panel range', () => {
    const [frame] = toFrames(query({ queryType: QueryType.Daily }), fleetRequest('/daily'), days, context);
    expect(field(frame, 'date').type).toBe(FieldType.time);
    expect(field(frame, 'date').values).toEqual([Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-03-02T00:00:00Z')]);
    expect(field(frame, 'mae').values).toEqual([2, 3]);
  });

  it('names each UTC day as text too, which no time zone shifts', () => {
    const [frame] = toFrames(query({ queryType: QueryType.Daily }), fleetRequest('/daily'), days, context);
    expect(field(frame, 'day')).toMatchObject({ type: FieldType.string, values: ['2026-03-01', '2026-03-02'] });
  });

  it('shows every day when the query asks for an explicit number of days', () => {
    const [frame] = toFrames(query({ queryType: QueryType.Daily, days: 4 }), versionRequest('/daily', 'v1'), days, context);
    expect(frame?.length).toBe(4);
    expect(field(frame, 'mae').config.displayNameFromDS).toBe('MAE v1');
  });
});

describe('predictions and anomalies frames', () => {
  it('types every column: times, numbers with units, booleans, text, objects', () => {
    const [frame] = toFrames(query({ queryType: QueryType.Predictions }), fleetRequest('/predictions'), [storedPrediction()], context);
    expect(frame?.meta?.preferredVisualisationType).toBe('table');
    expect(field(frame, 'created_at')).toMatchObject({ type: FieldType.time, values: [Date.parse('2026-03-01T10:02:00Z')] });
    expect(field(frame, 'actual_dropoff_at')).toMatchObject({ type: FieldType.time, values: [null] });
    expect(field(frame, 'predicted_delay_minutes')).toMatchObject({ type: FieldType.number, values: [8.5], config: { unit: 'm' } });
    expect(field(frame, 'confidence').config.unit).toBe('percentunit');
    expect(field(frame, 'is_accurate')).toMatchObject({ type: FieldType.boolean, values: [false] });
    expect(field(frame, 'risk_level')).toMatchObject({ type: FieldType.string, values: ['medium'] });
    expect(field(frame, 'contributing_factors')).toMatchObject({ type: FieldType.other, values: [{ distance_x_weather: 0.42 }] });
    expect(field(frame, 'id').values).toEqual(['1234567']);
    expect(field(frame, 'prediction_error').config.displayNameFromDS).toBe('Error');
  });

  it('maps anomalies like predictions, one frame per version', () => {
    const frames = toFrames(query({ queryType: QueryType.Anomalies }), versionRequest('/anomalies', 'v3'), [storedPrediction(), storedPrediction({ id: 7 })], context);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.name).toBe('v3');
    expect(field(frames[0], 'id').values).toEqual(['1234567', '7']);
  });

  it('gives an empty table, not an error, when there is nothing', () => {
    const frame = predictionsFrame([], 'A');
    expect(frame.length).toBe(0);
    expect(field(frame, 'created_at').type).toBe(FieldType.time);
  });
});

describe('summary frame', () => {
  it('is one row with totals, the feature flag and every metric over 24 h and 7 d', () => {
    const [frame] = toFrames(query({ queryType: QueryType.Summary }), fleetRequest('/summary'), summaryResponse, context);
    expect(frame?.length).toBe(1);
    expect(field(frame, 'timestamp')).toMatchObject({ type: FieldType.time, values: [Date.parse('2026-03-01T16:00:00Z')] });
    expect(field(frame, 'total_predictions').values).toEqual([1234]);
    expect(field(frame, 'ml_enabled')).toMatchObject({ type: FieldType.boolean, values: [false] });
    expect(field(frame, 'ml_traffic_percentage')).toMatchObject({ values: [25], config: { unit: 'percent' } });
    expect(['ml_requests', 'ml_successes', 'ml_failures'].map((name) => field(frame, name).values[0])).toEqual([100, 97, 3]);
    expect(field(frame, 'ml_success_rate')).toMatchObject({ values: [0.97], config: { unit: 'percentunit' } });
    expect(field(frame, 'anomalies_count').values).toEqual([3]);
    expect(field(frame, 'mae_24h')).toMatchObject({ values: [2.2], config: { displayNameFromDS: 'MAE (24 h)', unit: 'm' } });
    expect(field(frame, 'mae_7d').values).toEqual([2.9]);
    for (const metric of METRICS) {
      expect(field(frame, `${metric.name}_7d`).type).toBe(FieldType.number);
    }
  });
});

describe('model versions frame', () => {
  it('has the text and value fields Grafana reads variable options from', () => {
    const frame = modelVersionsFrame(['v1', 'v2']);
    expect(field(frame, 'text').values).toEqual(['v1', 'v2']);
    expect(field(frame, 'value')).toMatchObject({ type: FieldType.string, values: ['v1', 'v2'] });
  });
});

describe('anomalyEvents', () => {
  it('makes one annotation per anomaly at its creation time, with details and tags', () => {
    const frame = predictionsFrame([storedPrediction(), storedPrediction({ created_at: '2026-03-01T11:00:00.000Z', risk_level: 'high', model_version: 'v2', prediction_error: 12.25 })], 'A');
    const events = anomalyEvents([frame]);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      time: Date.parse('2026-03-01T10:02:00Z'),
      title: 'Anomaly: error 6.5 min',
      text: 'Booking 4711: predicted 8.5 min, actual 15.0 min (model v1, risk medium)',
      tags: ['anomaly', 'v1', 'medium'],
    });
    expect(events[1]).toMatchObject({ time: Date.parse('2026-03-01T11:00:00Z'), title: 'Anomaly: error 12.3 min', tags: ['anomaly', 'v2', 'high'] });
  });

  it('ignores frames of other query types', () => {
    const [window] = toFrames(query({ queryType: QueryType.Window }), fleetRequest('/metrics'), metricsObject(), context);
    expect(anomalyEvents([window!])).toEqual([]);
  });
});
