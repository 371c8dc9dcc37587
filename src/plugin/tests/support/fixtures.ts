import {
  DailyMetricsObject,
  MetricsObject,
  StoredPrediction,
  SummaryResponse,
  TimeseriesResponse,
} from '../../src/types';

/** Responses shaped as docs/api.md describes them, for unit tests of the frame mapping. */

export function metricsObject(overrides: Partial<MetricsObject> = {}): MetricsObject {
  return {
    period_hours: 6,
    from: '2026-03-01T10:00:00.000Z',
    to: '2026-03-01T16:00:00.000Z',
    predictions: 12,
    count: 10,
    mae: 2.4,
    rmse: 3.1,
    bias: -0.6,
    r2: 0.71,
    accuracy_rate: 0.8,
    avg_confidence: 0.86,
    avg_prediction_time_ms: 120,
    anomalies: 1,
    ...overrides,
  };
}

export function dailyMetrics(date: string, overrides: Partial<MetricsObject> = {}): DailyMetricsObject {
  return { ...metricsObject({ period_hours: 24, ...overrides }), date };
}

export const timeseriesResponse: TimeseriesResponse = {
  from: '2026-03-01T10:00:00.000Z',
  to: '2026-03-01T10:10:00.000Z',
  step_seconds: 300,
  series: [
    {
      model_version: 'v1',
      points: [
        { time: '2026-03-01T10:00:00.000Z', ...metricsObject({ mae: 2 }) },
        { time: '2026-03-01T10:05:00.000Z', ...metricsObject({ mae: null, r2: null, count: 0 }) },
      ],
    },
    {
      model_version: 'v2',
      points: [{ time: '2026-03-01T10:05:00.000Z', ...metricsObject({ mae: 4 }) }],
    },
  ],
};

export function storedPrediction(overrides: Partial<StoredPrediction> = {}): StoredPrediction {
  return {
    id: 1234567,
    booking_id: 4711,
    driver_id: 42,
    request_id: 'req-1',
    predicted_delay_minutes: 8.5,
    confidence: 0.9,
    risk_level: 'medium',
    contributing_factors: { distance_x_weather: 0.42 },
    model_version: 'v1',
    prediction_time_ms: 95,
    feature_flag_enabled: true,
    traffic_percentage: 25,
    actual_delay_minutes: 15,
    actual_pickup_at: '2026-03-01T10:20:00.000Z',
    actual_dropoff_at: null,
    prediction_error: 6.5,
    is_accurate: false,
    created_at: '2026-03-01T10:02:00.000Z',
    updated_at: '2026-03-01T10:21:00.000Z',
    ...overrides,
  };
}

export const summaryResponse: SummaryResponse = {
  total_predictions: 1234,
  metrics_24h: metricsObject({ period_hours: 24, mae: 2.2 }),
  metrics_7d: metricsObject({ period_hours: 168, mae: 2.9 }),
  feature_flags: {
    // Distinct values, and ml_enabled off: a field fed from the wrong flag cannot pass unseen.
    ml_enabled: false,
    ml_traffic_percentage: 25,
    ml_requests: 100,
    ml_successes: 97,
    ml_failures: 3,
    ml_success_rate: 0.97,
  },
  anomalies_count: 3,
  timestamp: '2026-03-01T16:00:00.000Z',
};
