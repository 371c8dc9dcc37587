import { DataQuery, DataSourceJsonData } from '@grafana/data';

/** The API version (`api_version` of `GET /info`) this plugin's requests and frame mappings are written for. */
export const SUPPORTED_API_VERSION = 1;

/** Path prefix of the proxy route declared in plugin.json; Grafana adds the read token on this route. */
export const PROXY_ROUTE = 'mlmon';

/** Base path of the service's read API. */
export const API_BASE_PATH = '/api/ml-monitoring';

export enum QueryType {
  /** Quality metrics bucketed over the panel's time range at the panel's interval (`GET /timeseries`). */
  Timeseries = 'timeseries',
  /** One row of metrics over exactly the panel's time range (`GET /metrics?from&to`), for stat panels. */
  Window = 'window',
  /** One row of metrics per UTC day (`GET /daily`). */
  Daily = 'daily',
  /** The newest predictions within the panel's time range (`GET /predictions`). */
  Predictions = 'predictions',
  /** Predictions whose error exceeds a threshold within the panel's time range (`GET /anomalies`). */
  Anomalies = 'anomalies',
  /** Totals, 24 h / 7 d metrics and the feature flag (`GET /summary`). */
  Summary = 'summary',
}

/** Fields of a metrics object that the plugin can return as numeric frame fields. */
export type MetricName =
  | 'predictions'
  | 'count'
  | 'mae'
  | 'rmse'
  | 'bias'
  | 'r2'
  | 'accuracy_rate'
  | 'avg_confidence'
  | 'avg_prediction_time_ms'
  | 'anomalies';

/** A panel query, as stored in dashboards. Every field but `queryType` is optional. */
export interface MlmonQuery extends DataQuery {
  queryType?: QueryType;
  /**
   * Model version filter: empty for the whole fleet, a version, a comma-separated list, or a template
   * variable such as `$model_version`. A `*` (e.g. the variable's custom "All" value) or `all` (the
   * fleet's name in the service's Prometheus labels) among the values also means the whole fleet.
   */
  modelVersion?: string;
  /** Metric fields to return (timeseries, window, daily); empty returns them all. */
  metrics?: MetricName[];
  /** Daily: number of days ending today; empty covers the panel's time range. */
  days?: number;
  /** Predictions and anomalies: maximum number of rows. */
  limit?: number;
  /** Anomalies: error threshold in minutes; empty uses the service's configured threshold. */
  threshold?: number;
}

/** The query of a template variable listing the model versions seen recently. */
export interface ModelVersionsVariableQuery extends DataQuery {
  /** Look-back window in hours; empty uses the service default (168 h). */
  hours?: number;
}

export interface MlmonDataSourceOptions extends DataSourceJsonData {
  /** Base URL of the mlmon service as seen from the Grafana server, e.g. http://mlmon:8080. */
  url?: string;
}

/** Stored encrypted by Grafana; only the data source proxy ever reads it. */
export interface MlmonSecureJsonData {
  readToken?: string;
}

// ---- Response shapes of the service (docs/api.md) ----

export interface MetricsObject {
  period_hours: number;
  from: string;
  to: string;
  predictions: number;
  count: number;
  mae: number | null;
  rmse: number | null;
  /** Mean of predicted - actual, minutes (null without labels, or where mlmon cannot know it). */
  bias: number | null;
  r2: number | null;
  accuracy_rate: number | null;
  avg_confidence: number | null;
  avg_prediction_time_ms: number | null;
  anomalies: number;
}

export interface DailyMetricsObject extends MetricsObject {
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
}

export type TimeseriesPoint = { time: string } & Partial<Record<MetricName, number | null>>;

export interface TimeseriesResponse {
  from: string;
  to: string;
  step_seconds: number;
  /** One series per requested version; without a filter, one fleet series named "all". */
  series: Array<{ model_version: string; points: TimeseriesPoint[] }>;
}

export interface StoredPrediction {
  id: number;
  booking_id: number;
  driver_id: number | null;
  request_id: string | null;
  predicted_delay_minutes: number;
  confidence: number;
  risk_level: string;
  contributing_factors: Record<string, number> | null;
  model_version: string;
  prediction_time_ms: number | null;
  feature_flag_enabled: boolean | null;
  traffic_percentage: number | null;
  actual_delay_minutes: number | null;
  actual_pickup_at: string | null;
  actual_dropoff_at: string | null;
  prediction_error: number | null;
  is_accurate: boolean | null;
  created_at: string;
  updated_at: string;
}

export interface FeatureFlagsSummary {
  ml_enabled: boolean;
  ml_traffic_percentage: number;
  ml_requests: number;
  ml_successes: number;
  ml_failures: number;
  ml_success_rate: number | null;
}

export interface SummaryResponse {
  total_predictions: number;
  metrics_24h: MetricsObject;
  metrics_7d: MetricsObject;
  feature_flags: FeatureFlagsSummary;
  anomalies_count: number;
  timestamp: string;
}

export interface ModelVersionsResponse {
  model_versions: string[];
}

export interface InfoResponse {
  service: string;
  version: string;
  api_version: number;
}
