import { MetricName } from './types';

export interface MetricDefinition {
  name: MetricName;
  /** Shown in legends and column headers. */
  displayName: string;
  /** A Grafana unit id: `m` is minutes, `percentunit` a 0..1 ratio shown as a percentage. */
  unit: string;
  decimals?: number;
  description: string;
}

/** Every numeric field of a metrics object, in the order frames list them. */
export const METRICS: readonly MetricDefinition[] = [
  { name: 'mae', displayName: 'MAE', unit: 'm', decimals: 2, description: 'Mean absolute error of labelled predictions' },
  { name: 'rmse', displayName: 'RMSE', unit: 'm', decimals: 2, description: 'Root mean squared error of labelled predictions' },
  { name: 'bias', displayName: 'Bias', unit: 'm', decimals: 2, description: 'Mean of predicted minus actual delay: above 0 the model predicts longer delays than happen, below 0 shorter' },
  { name: 'r2', displayName: 'R²', unit: 'none', decimals: 3, description: 'Coefficient of determination (empty below 2 labelled predictions or without spread)' },
  { name: 'accuracy_rate', displayName: 'Accuracy', unit: 'percentunit', decimals: 1, description: 'Share of labelled predictions within the tolerance' },
  { name: 'avg_confidence', displayName: 'Average confidence', unit: 'percentunit', decimals: 1, description: 'Mean model confidence of all predictions' },
  { name: 'avg_prediction_time_ms', displayName: 'Average latency', unit: 'ms', decimals: 0, description: 'Mean prediction time of the predictions that reported it' },
  { name: 'predictions', displayName: 'Predictions', unit: 'short', decimals: 0, description: 'All predictions in the window' },
  { name: 'count', displayName: 'Labelled', unit: 'short', decimals: 0, description: 'Predictions with an actual delay' },
  { name: 'anomalies', displayName: 'Anomalies', unit: 'short', decimals: 0, description: 'Labelled predictions whose error exceeds the anomaly threshold' },
];

/** The definitions of the requested metrics, in catalogue order; all of them when none is requested. */
export function selectMetrics(requested: readonly MetricName[] | undefined): MetricDefinition[] {
  if (!requested || requested.length === 0) {
    return [...METRICS];
  }
  return METRICS.filter((metric) => requested.includes(metric.name));
}
