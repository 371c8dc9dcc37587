/**
 * Predictions as a client sends them: JSON for the HTTP API, COPY text for the raw-COPY baseline.
 * Deterministic (a counter, not Math.random), unique request_id per row (the idempotency index is
 * exercised as in production), three model versions, realistic sizes (~330 bytes of JSON).
 */
export const MODEL_VERSIONS = ['v1', 'v2', 'v3'] as const;

export interface PredictionRow {
  booking_id: number;
  driver_id: number;
  request_id: string;
  predicted_delay_minutes: number;
  confidence: number;
  risk_level: string;
  contributing_factors: Record<string, number>;
  model_version: string;
  prediction_time_ms: number;
  feature_flag_enabled: boolean;
  traffic_percentage: number;
}

/** Row `i` of a stream named `prefix` (prefix keeps request ids unique across phases). */
export function predictionRow(prefix: string, i: number): PredictionRow {
  const predicted = 2 + ((i * 7919) % 1000) / 100;
  return {
    booking_id: 2_000_000_000 + i,
    driver_id: i % 5000,
    request_id: `${prefix}-${i}`,
    predicted_delay_minutes: predicted,
    confidence: 0.5 + ((i * 104729) % 500) / 1000,
    risk_level: predicted >= 8 ? 'high' : predicted >= 4 ? 'medium' : 'low',
    contributing_factors: { distance_x_weather: ((i * 31) % 100) / 100, traffic_density: ((i * 17) % 100) / 100, driver_rating: 0.1 },
    model_version: MODEL_VERSIONS[i % MODEL_VERSIONS.length]!,
    prediction_time_ms: 50 + ((i * 13) % 150),
    feature_flag_enabled: true,
    traffic_percentage: 25,
  };
}

export const predictionJson = (prefix: string, i: number) => JSON.stringify(predictionRow(prefix, i));

export function batchJson(prefix: string, first: number, size: number): string {
  const rows: PredictionRow[] = [];
  for (let i = first; i < first + size; i++) rows.push(predictionRow(prefix, i));
  return JSON.stringify(rows);
}

/** The columns the raw COPY writes (created_at and updated_at take their defaults, as over HTTP). */
export const COPY_COLUMNS = [
  'booking_id', 'driver_id', 'request_id', 'predicted_delay_minutes', 'confidence', 'risk_level',
  'contributing_factors', 'model_version', 'prediction_time_ms', 'feature_flag_enabled', 'traffic_percentage',
] as const;

/** One line of COPY text format (no value here contains a tab, newline or backslash). */
export function copyLine(prefix: string, i: number): string {
  const p = predictionRow(prefix, i);
  return [
    p.booking_id, p.driver_id, p.request_id, p.predicted_delay_minutes, p.confidence, p.risk_level,
    JSON.stringify(p.contributing_factors), p.model_version, p.prediction_time_ms, p.feature_flag_enabled ? 't' : 'f',
    p.traffic_percentage,
  ].join('\t') + '\n';
}
