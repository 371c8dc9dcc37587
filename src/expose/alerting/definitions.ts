/**
 * Every mlmon alert and recording rule, as plain data: the single place where thresholds live.
 *
 * Pure module (no I/O). `generate.ts` renders it as Prometheus rule files and `grafana.ts` as
 * Grafana-managed alert rules, so nothing here may depend on how it is rendered.
 *
 * Units follow Prometheus conventions (seconds, ratios 0..1); humans read minutes and percent, so
 * every definition also carries the threshold as text and says how to format its value.
 */

export type Severity = 'page' | 'ticket';

/** A Prometheus duration as used by `for:` and range selectors. */
export type PromDuration = `${number}${'s' | 'm' | 'h' | 'd'}`;

/** Values of the `window` label on the service's windowed gauges (see docs/api.md). */
export type GaugeWindow = '1h' | '24h' | '7d';

/**
 * Links a page alert to the ticket alert(s) about the same thing: Alertmanager inhibits a ticket
 * while a page with the same `signal` and `model_version` fires.
 */
export type Signal =
  | 'mae'
  | 'accuracy'
  | 'r2'
  | 'anomalies'
  | 'bias'
  | 'latency'
  | 'predictions_stalled'
  | 'ml_request_success'
  | 'ground_truth'
  | 'service'
  | 'service_target'
  | 'database'
  | 'metrics_snapshot';

export type AlertGroupName = 'mlmon-quality' | 'mlmon-latency' | 'mlmon-traffic' | 'mlmon-availability';

/** How the alert's value (`$value`, always in base units) is shown to a human. */
export type ValueFormat = 'duration' | 'percentage' | 'decimal' | 'count';

export interface AlertDefinition {
  /** Prometheus `alertname`; unique. */
  readonly name: string;
  readonly group: AlertGroupName;
  readonly signal: Signal;
  readonly severity: Severity;
  /** PromQL; a returned series is an alert instance, its value the measured value in base units. */
  readonly expr: string;
  /** How long the condition must hold before notifying, so one bad minute does not page. */
  readonly for: PromDuration;
  /** Static labels besides `severity` and `signal` (which the renderers add). */
  readonly labels: Readonly<Record<string, string>>;
  readonly valueFormat: ValueFormat;
  /** The threshold as a human reads it, e.g. "> 5 min". */
  readonly thresholdText: string;
  /** Prometheus/Grafana template text: may use `$labels`, `$value` and the humanize* functions. */
  readonly summary: string;
  readonly description: string;
  /** Heading anchor in docs/runbook.md (GitHub slug of the heading). */
  readonly runbookAnchor: string;
}

export interface RecordingRuleDefinition {
  readonly record: string;
  readonly expr: string;
}

/** Where `runbook_url` annotations point; the anchor of each alert is appended. */
export const RUNBOOK_URL = 'https://github.com/mlmon/mlmon/blob/main/docs/runbook.md';

/** Prometheus job name of the service; provisioning/prometheus/prometheus.yml must use the same. */
export const SERVICE_JOB = 'mlmon';

const SECONDS_PER_MINUTE = 60;

/**
 * The thresholds. Quality numbers come from the seed's reading tables
 * (shared/seed-summary.md); the rest are our operational choices, explained in docs/runbook.md.
 */
export const thresholds = {
  /** Seed: MAE < 3 min is the target, 3–5 min fair (investigate), > 5 min bad (retrain). */
  maeMinutes: { page: 5, ticket: 3 },
  /** Seed: accuracy target > 80 %, below 70 % investigate. */
  accuracyRatio: { page: 0.7, ticket: 0.8 },
  /** Seed: R² < 0.50 bad, 0.60–0.70 good; the dashboard target is > 0.65. */
  r2: { page: 0.5, ticket: 0.65 },
  /** Seed target for prediction time; paging at twice the target leaves room for ordinary jitter. */
  latencySeconds: { target: 0.15, page: 0.3 },
  /** Share of labelled predictions that are anomalies (error above the service's 5 min threshold). */
  anomalyRatio: { ticket: 0.1 },
  /**
   * Our choice, not the seed's: a mean error of half the 3 min accuracy tolerance in one direction
   * is a calibration or feature problem (a unit, a clock, a changed target) that a fix or a
   * recalibration removes without retraining, and it spends half the tolerance of every prediction.
   */
  biasMinutes: { ticket: 1.5 },
  /** Share of ML requests that must succeed. */
  mlRequestSuccessRatio: { minimum: 0.95 },
  /** Share of predictions 1 h to 24 h old that must have an actual (rides end well within an hour). */
  groundTruthCoverageRatio: { minimum: 0.8 },
  /**
   * Minimum-sample guard: a window's quality gauges are trusted only with this many labelled
   * predictions in it. A mean over fewer points swings too much to wake anyone.
   */
  minimumLabeledPredictions: { '1h': 20, '24h': 50, '7d': 100 } satisfies Record<GaugeWindow, number>,
  /** Same idea for rates computed from counters and the latency histogram. */
  minimumMlRequests: 20,
  minimumLatencyObservations: 20,
  /** Predictions 1 h to 24 h old needed before their ground-truth coverage means anything. */
  minimumAgedPredictions: 20,
  /** Average hourly volume (over 7 d) above which one silent hour is abnormal enough to page. */
  stalledPageMinimumPredictionsPerHour: 10,
  /** Gauges older than this are no longer a picture of the present. */
  metricsSnapshotMaxAgeSeconds: 600,
} as const;

/** Quality pages look at the shortest window with enough samples: fast to fire, fast to resolve. */
const PAGE_QUALITY_WINDOWS = ['1h', '24h'] as const satisfies readonly GaugeWindow[];
/** Tickets track the day, as the seed's dashboard cards did; 7 d only when a day is too thin. */
const TICKET_QUALITY_WINDOWS = ['24h', '7d'] as const satisfies readonly GaugeWindow[];

const recordingRuleNames = {
  anomalyRatio: 'model_version:ml_prediction_window_anomalies:ratio',
  biasMagnitude: 'model_version:ml_prediction_bias_seconds:abs',
  latencyP95Rate15m: 'model_version:ml_prediction_latency_seconds:p95_rate15m',
  latencyP95Rate1h: 'model_version:ml_prediction_latency_seconds:p95_rate1h',
  latencyObservations15m: 'model_version:ml_prediction_latency_seconds_count:increase15m',
  latencyObservations1h: 'model_version:ml_prediction_latency_seconds_count:increase1h',
  mlRequestSuccessRatio15m: 'job:ml_requests_success:ratio_rate15m',
  mlRequestSuccessRatio6h: 'job:ml_requests_success:ratio_rate6h',
  mlRequests15m: 'job:ml_requests:increase15m',
  mlRequests6h: 'job:ml_requests:increase6h',
  groundTruthCoverageAged: 'instance:ml_prediction_ground_truth_coverage_aged_1h_to_24h:ratio',
  predictionsAged: 'instance:ml_prediction_window_predictions_aged_1h_to_24h:count',
} as const;

function latencyP95(range: '15m' | '1h'): string {
  return `histogram_quantile(0.95, sum by (job, model_version, le) (rate(ml_prediction_latency_seconds_bucket[${range}])))`;
}

function mlRequestSuccessRatio(range: '15m' | '6h'): string {
  // Without any success series the numerator would be empty and a 100 % failure rate would never
  // alert; `or 0 * total` makes it an explicit zero.
  const total = `sum by (job) (rate(ml_requests_total[${range}]))`;
  return `(sum by (job) (rate(ml_requests_total{outcome="success"}[${range}])) or 0 * ${total})\n/\n${total}`;
}

/** Predictions (or labelled ones) created between 1 h and 24 h ago, from the two window gauges. */
function agedOneToTwentyFourHours(gauge: 'ml_prediction_window_predictions' | 'ml_prediction_window_labeled'): string {
  const day = `sum without (window) (${gauge}{model_version="all",window="24h"})`;
  const hour = `sum without (window) (${gauge}{model_version="all",window="1h"})`;
  return `(${day} - (${hour} or 0 * ${day}))`;
}

export const recordingRules: readonly RecordingRuleDefinition[] = [
  {
    record: recordingRuleNames.anomalyRatio,
    expr: 'ml_prediction_window_anomalies / (ml_prediction_window_labeled > 0)',
  },
  // The alerts compare with one threshold; a bias is as bad either way.
  { record: recordingRuleNames.biasMagnitude, expr: 'abs(ml_prediction_bias_seconds)' },
  { record: recordingRuleNames.latencyP95Rate15m, expr: latencyP95('15m') },
  { record: recordingRuleNames.latencyP95Rate1h, expr: latencyP95('1h') },
  {
    record: recordingRuleNames.latencyObservations15m,
    expr: 'sum by (job, model_version) (increase(ml_prediction_latency_seconds_count[15m]))',
  },
  {
    record: recordingRuleNames.latencyObservations1h,
    expr: 'sum by (job, model_version) (increase(ml_prediction_latency_seconds_count[1h]))',
  },
  { record: recordingRuleNames.mlRequestSuccessRatio15m, expr: mlRequestSuccessRatio('15m') },
  { record: recordingRuleNames.mlRequestSuccessRatio6h, expr: mlRequestSuccessRatio('6h') },
  { record: recordingRuleNames.mlRequests15m, expr: 'sum by (job) (increase(ml_requests_total[15m]))' },
  { record: recordingRuleNames.mlRequests6h, expr: 'sum by (job) (increase(ml_requests_total[6h]))' },
  { record: recordingRuleNames.predictionsAged, expr: agedOneToTwentyFourHours('ml_prediction_window_predictions') },
  {
    record: recordingRuleNames.groundTruthCoverageAged,
    expr: `${agedOneToTwentyFourHours('ml_prediction_window_labeled')}\n/\n${agedOneToTwentyFourHours('ml_prediction_window_predictions')}`,
  },
];

type Comparison = '>' | '<';

/**
 * Quality condition over per-model-version windowed gauges, evaluated on the shortest of `windows`
 * that passes the minimum-sample guard: a busy deployment is judged on its last hour, a quiet one
 * (the seed's 100–200 predictions a day) on its day, and never on a handful of points.
 * `model_version="all"` is left out: it is the sum of the versions, which alert themselves.
 *
 * The `window` label is aggregated away: which window is judged changes whenever the shorter
 * window's count crosses its guard (a version with about 20 labelled predictions an hour crosses
 * it all day long), and an alert whose labels change restarts its `for:`, so a version that is bad
 * in every window would never fire. The alert is one series per version whichever window judges it.
 */
function onShortestGuardedWindow(
  valueSeries: string,
  comparison: Comparison,
  threshold: number,
  windows: readonly GaugeWindow[],
): string {
  const guard = (window: GaugeWindow): string =>
    `ml_prediction_window_labeled{window="${window}"} >= ${thresholds.minimumLabeledPredictions[window]}`;
  const clauses = windows.map((window, index) => {
    const condition = `${valueSeries}{model_version!="all",window="${window}"} ${comparison} ${threshold}\nand ${guard(window)}`;
    const shorterWindows = windows.slice(0, index);
    const unlessShorter = shorterWindows.map((shorter) => `\nunless ignoring (window) ${guard(shorter)}`).join('');
    return `(\n${indent(condition + unlessShorter)}\n)`;
  });
  return `max without (window) (\n${indent(clauses.join('\nor\n'))}\n)`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

function milliseconds(seconds: number): string {
  return `${Math.round(seconds * 1000)} ms`;
}

/** The template that shows `$value` in the alert's human unit. */
function valueTemplate(format: ValueFormat): string {
  switch (format) {
    case 'duration':
      return '{{ $value | humanizeDuration }}';
    case 'percentage':
      return '{{ $value | humanizePercentage }}';
    case 'decimal':
      return '{{ $value | printf "%.2f" }}';
    case 'count':
      return '{{ $value | printf "%.0f" }}';
  }
}

const MODEL_WINDOW = 'model {{ $labels.model_version }} over the last {{ $labels.window }}';

/**
 * The model and the windows a quality alert judges (onShortestGuardedWindow): the alert has no
 * `window` label, so the text names the rule instead.
 */
function modelOverWindows(windows: readonly [GaugeWindow, GaugeWindow]): string {
  const [shorter, longer] = windows;
  return `model {{ $labels.model_version }} over the last ${shorter} (the last ${longer} while ${shorter} has fewer than ${thresholds.minimumLabeledPredictions[shorter]} labelled predictions)`;
}
const MODEL = 'model {{ $labels.model_version }}';
const MODEL_PAGE_WINDOWS = modelOverWindows(PAGE_QUALITY_WINDOWS);
const MODEL_TICKET_WINDOWS = modelOverWindows(TICKET_QUALITY_WINDOWS);
/** No alert needs extra static labels yet; routing keys off `severity` and `signal`. */
const STATIC_LABELS: Readonly<Record<string, string>> = {};

function maeAlerts(): AlertDefinition[] {
  const { page, ticket } = thresholds.maeMinutes;
  const value = valueTemplate('duration');
  return [
    {
      name: 'MLPredictionMAEBad',
      group: 'mlmon-quality',
      signal: 'mae',
      severity: 'page',
      expr: onShortestGuardedWindow('ml_prediction_mae_seconds', '>', page * SECONDS_PER_MINUTE, PAGE_QUALITY_WINDOWS),
      for: '15m',
      labels: STATIC_LABELS,
      valueFormat: 'duration',
      thresholdText: `> ${page} min`,
      summary: `Prediction MAE ${value} for ${MODEL} (page above ${page} min)`,
      description:
        `Mean absolute error of the pickup-delay predictions of ${MODEL_PAGE_WINDOWS} is ${value}, above the ${page} min paging threshold ` +
        `(seed: above 5 min is bad, retrain). Consider rolling the ML traffic back while investigating.`,
      runbookAnchor: 'mae-too-high',
    },
    {
      name: 'MLPredictionMAEAboveTarget',
      group: 'mlmon-quality',
      signal: 'mae',
      severity: 'ticket',
      expr: onShortestGuardedWindow('ml_prediction_mae_seconds', '>', ticket * SECONDS_PER_MINUTE, TICKET_QUALITY_WINDOWS),
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'duration',
      thresholdText: `> ${ticket} min`,
      summary: `Prediction MAE ${value} for ${MODEL} (target below ${ticket} min)`,
      description:
        `Mean absolute error of ${MODEL_TICKET_WINDOWS} is ${value}, above the ${ticket} min target ` +
        `(seed: 3–5 min is fair, investigate).`,
      runbookAnchor: 'mae-too-high',
    },
  ];
}

function accuracyAlerts(): AlertDefinition[] {
  const { page, ticket } = thresholds.accuracyRatio;
  const value = valueTemplate('percentage');
  return [
    {
      name: 'MLPredictionAccuracyBad',
      group: 'mlmon-quality',
      signal: 'accuracy',
      severity: 'page',
      expr: onShortestGuardedWindow('ml_prediction_accuracy_ratio', '<', page, PAGE_QUALITY_WINDOWS),
      for: '15m',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: `< ${percent(page)}`,
      summary: `Prediction accuracy ${value} for ${MODEL} (page below ${percent(page)})`,
      description:
        `Only ${value} of the labelled predictions of ${MODEL_PAGE_WINDOWS} are within the accuracy tolerance, ` +
        `below the ${percent(page)} paging threshold (seed: below 70% investigate).`,
      runbookAnchor: 'accuracy-too-low',
    },
    {
      name: 'MLPredictionAccuracyBelowTarget',
      group: 'mlmon-quality',
      signal: 'accuracy',
      severity: 'ticket',
      expr: onShortestGuardedWindow('ml_prediction_accuracy_ratio', '<', ticket, TICKET_QUALITY_WINDOWS),
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: `< ${percent(ticket)}`,
      summary: `Prediction accuracy ${value} for ${MODEL} (target above ${percent(ticket)})`,
      description: `Only ${value} of the labelled predictions of ${MODEL_TICKET_WINDOWS} are accurate, below the ${percent(ticket)} target.`,
      runbookAnchor: 'accuracy-too-low',
    },
  ];
}

function r2Alerts(): AlertDefinition[] {
  const { page, ticket } = thresholds.r2;
  const value = valueTemplate('decimal');
  return [
    {
      name: 'MLPredictionR2Bad',
      group: 'mlmon-quality',
      signal: 'r2',
      severity: 'page',
      expr: onShortestGuardedWindow('ml_prediction_r2', '<', page, PAGE_QUALITY_WINDOWS),
      for: '15m',
      labels: STATIC_LABELS,
      valueFormat: 'decimal',
      thresholdText: `< ${page.toFixed(2)}`,
      summary: `Prediction R² ${value} for ${MODEL} (page below ${page.toFixed(2)})`,
      description:
        `R² of ${MODEL_PAGE_WINDOWS} is ${value}, below the ${page.toFixed(2)} paging threshold ` +
        `(seed: below 0.50 is bad): the model explains little of the variation in pickup delays.`,
      runbookAnchor: 'r2-too-low',
    },
    {
      name: 'MLPredictionR2BelowTarget',
      group: 'mlmon-quality',
      signal: 'r2',
      severity: 'ticket',
      expr: onShortestGuardedWindow('ml_prediction_r2', '<', ticket, TICKET_QUALITY_WINDOWS),
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'decimal',
      thresholdText: `< ${ticket.toFixed(2)}`,
      summary: `Prediction R² ${value} for ${MODEL} (target above ${ticket.toFixed(2)})`,
      description: `R² of ${MODEL_TICKET_WINDOWS} is ${value}, below the ${ticket.toFixed(2)} target.`,
      runbookAnchor: 'r2-too-low',
    },
  ];
}

function anomalyAlerts(): AlertDefinition[] {
  const { ticket } = thresholds.anomalyRatio;
  const value = valueTemplate('percentage');
  return [
    {
      name: 'MLPredictionAnomalyRateHigh',
      group: 'mlmon-quality',
      signal: 'anomalies',
      severity: 'ticket',
      expr: onShortestGuardedWindow(recordingRuleNames.anomalyRatio, '>', ticket, TICKET_QUALITY_WINDOWS),
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: `> ${percent(ticket)}`,
      summary: `Anomalies are ${value} of the labelled predictions of ${MODEL} (ticket above ${percent(ticket)})`,
      description:
        `${value} of the labelled predictions of ${MODEL_TICKET_WINDOWS} are anomalies (error above the anomaly threshold, 5 min by default), ` +
        `more than ${percent(ticket)}. Look for a common cause: exceptional conditions, a feature bug or drift.`,
      runbookAnchor: 'anomaly-rate-high',
    },
  ];
}

function biasAlerts(): AlertDefinition[] {
  const { ticket } = thresholds.biasMinutes;
  const value = valueTemplate('duration');
  return [
    {
      name: 'MLPredictionBiased',
      group: 'mlmon-quality',
      signal: 'bias',
      severity: 'ticket',
      expr: onShortestGuardedWindow(recordingRuleNames.biasMagnitude, '>', ticket * SECONDS_PER_MINUTE, TICKET_QUALITY_WINDOWS),
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'duration',
      thresholdText: `> ${ticket} min either way`,
      summary: `Predictions of ${MODEL} are off by ${value} on average, all in one direction (ticket above ${ticket} min)`,
      description:
        `The mean of predicted − actual delay of ${MODEL_TICKET_WINDOWS} is ${value} away from 0, more than ${ticket} min: ` +
        `the model systematically predicts longer (bias above 0) or shorter (below 0) delays than happen. ` +
        `The sign is in ml_prediction_bias_seconds and in the API's bias.`,
      runbookAnchor: 'bias',
    },
  ];
}

function latencyAlerts(): AlertDefinition[] {
  const { target, page } = thresholds.latencySeconds;
  const minimum = thresholds.minimumLatencyObservations;
  const value = valueTemplate('duration');
  return [
    {
      name: 'MLPredictionLatencyP95High',
      group: 'mlmon-latency',
      signal: 'latency',
      severity: 'page',
      expr:
        `${recordingRuleNames.latencyP95Rate15m} > ${page}\n` +
        `and ${recordingRuleNames.latencyObservations15m} >= ${minimum}`,
      for: '15m',
      labels: STATIC_LABELS,
      valueFormat: 'duration',
      thresholdText: `> ${milliseconds(page)}`,
      summary: `p95 prediction latency ${value} for model {{ $labels.model_version }} over 15m (page above ${milliseconds(page)})`,
      description:
        `The 95th percentile of prediction time reported for model {{ $labels.model_version }} over the last 15 minutes is ${value}, ` +
        `above the ${milliseconds(page)} paging threshold (twice the ${milliseconds(target)} target).`,
      runbookAnchor: 'prediction-latency-too-high',
    },
    {
      name: 'MLPredictionLatencyP95AboveTarget',
      group: 'mlmon-latency',
      signal: 'latency',
      severity: 'ticket',
      expr:
        `${recordingRuleNames.latencyP95Rate1h} > ${target}\n` +
        `and ${recordingRuleNames.latencyObservations1h} >= ${minimum}`,
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'duration',
      thresholdText: `> ${milliseconds(target)}`,
      summary: `p95 prediction latency ${value} for model {{ $labels.model_version }} over 1h (target below ${milliseconds(target)})`,
      description: `The 95th percentile of prediction time for model {{ $labels.model_version }} over the last hour is ${value}, above the ${milliseconds(target)} target.`,
      runbookAnchor: 'prediction-latency-too-high',
    },
    {
      name: 'MLPredictionLatencyAverageHigh',
      group: 'mlmon-latency',
      signal: 'latency',
      severity: 'ticket',
      // The seed's dashboard card: average prediction time over 24 h below 150 ms.
      expr:
        `ml_prediction_latency_avg_seconds{model_version!="all",window="24h"} > ${target}\n` +
        `and ml_prediction_window_predictions >= ${minimum}`,
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'duration',
      thresholdText: `> ${milliseconds(target)}`,
      summary: `Average prediction latency ${value} for ${MODEL_WINDOW} (target below ${milliseconds(target)})`,
      description: `The average prediction time of ${MODEL_WINDOW} is ${value}, above the ${milliseconds(target)} target.`,
      runbookAnchor: 'prediction-latency-too-high',
    },
  ];
}

function trafficAlerts(): AlertDefinition[] {
  const stalledPageMinimum7d = thresholds.stalledPageMinimumPredictionsPerHour * 24 * 7;
  const flagOn =
    `ml_feature_flag_traffic_ratio > 0\n` + `and on (job, instance) ml_feature_flag_enabled == 1`;
  const successMinimum = thresholds.mlRequestSuccessRatio.minimum;
  const coverageMinimum = thresholds.groundTruthCoverageRatio.minimum;
  const ratio = valueTemplate('percentage');
  return [
    {
      name: 'MLPredictionsStalled',
      group: 'mlmon-traffic',
      signal: 'predictions_stalled',
      severity: 'page',
      // Only where the past week averages enough traffic for a silent hour to be abnormal; quieter
      // deployments are covered by the day-long ticket below.
      expr:
        `${flagOn}\n` +
        `and on (job, instance) ml_prediction_window_predictions{model_version="all",window="7d"} >= ${stalledPageMinimum7d}\n` +
        `unless on (job, instance) ml_prediction_window_predictions{model_version="all",window="1h"} > 0`,
      for: '15m',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: `0 predictions in 1h (usual volume ≥ ${thresholds.stalledPageMinimumPredictionsPerHour}/h)`,
      summary: `No prediction logged in the last hour while the ML flag routes ${ratio} of traffic`,
      description:
        `The ML feature flag is on for ${ratio} of bookings and the past week averaged at least ` +
        `${thresholds.stalledPageMinimumPredictionsPerHour} predictions an hour, yet none was logged in the last hour: ` +
        `the ML path or its logging is broken.`,
      runbookAnchor: 'predictions-stalled',
    },
    {
      name: 'MLPredictionsStalledForADay',
      group: 'mlmon-traffic',
      signal: 'predictions_stalled',
      severity: 'ticket',
      expr: `${flagOn}\nunless on (job, instance) ml_prediction_window_predictions{model_version="all",window="24h"} > 0`,
      for: '1h',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: '0 predictions in 24h',
      summary: `No prediction logged in 24h while the ML flag routes ${ratio} of traffic`,
      description: `The ML feature flag has been on for ${ratio} of bookings for at least an hour and no prediction was logged in the last 24 hours.`,
      runbookAnchor: 'predictions-stalled',
    },
    {
      name: 'MLRequestSuccessRateLow',
      group: 'mlmon-traffic',
      signal: 'ml_request_success',
      severity: 'page',
      expr:
        `${recordingRuleNames.mlRequestSuccessRatio15m} < ${successMinimum}\n` +
        `and ${recordingRuleNames.mlRequests15m} >= ${thresholds.minimumMlRequests}`,
      for: '10m',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: `< ${percent(successMinimum)}`,
      summary: `ML request success rate ${ratio} over 15m (page below ${percent(successMinimum)})`,
      description: `Only ${ratio} of ML prediction requests succeeded over the last 15 minutes, below ${percent(successMinimum)}; failed requests fall back to the non-ML path.`,
      runbookAnchor: 'ml-request-success-rate-low',
    },
    {
      name: 'MLRequestSuccessRateBelowTarget',
      group: 'mlmon-traffic',
      signal: 'ml_request_success',
      severity: 'ticket',
      expr:
        `${recordingRuleNames.mlRequestSuccessRatio6h} < ${successMinimum}\n` +
        `and ${recordingRuleNames.mlRequests6h} >= ${thresholds.minimumMlRequests}`,
      for: '30m',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: `< ${percent(successMinimum)}`,
      summary: `ML request success rate ${ratio} over 6h (target at least ${percent(successMinimum)})`,
      description: `Only ${ratio} of ML prediction requests succeeded over the last 6 hours, below ${percent(successMinimum)}.`,
      runbookAnchor: 'ml-request-success-rate-low',
    },
    {
      name: 'MLGroundTruthLagging',
      group: 'mlmon-traffic',
      signal: 'ground_truth',
      severity: 'ticket',
      expr:
        `${recordingRuleNames.groundTruthCoverageAged} < ${coverageMinimum}\n` +
        `and ${recordingRuleNames.predictionsAged} >= ${thresholds.minimumAgedPredictions}`,
      for: '1h',
      labels: STATIC_LABELS,
      valueFormat: 'percentage',
      thresholdText: `< ${percent(coverageMinimum)} of predictions 1h–24h old labelled`,
      summary: `Only ${ratio} of predictions 1h–24h old have an actual (expected at least ${percent(coverageMinimum)})`,
      description:
        `Actual pickup delays are not arriving: only ${ratio} of the predictions made between 1 and 24 hours ago have one. ` +
        `Until they do, the quality alerts cannot see the model.`,
      runbookAnchor: 'ground-truth-lagging',
    },
  ];
}

function availabilityAlerts(): AlertDefinition[] {
  const maxAge = thresholds.metricsSnapshotMaxAgeSeconds;
  return [
    {
      name: 'MLServiceDown',
      group: 'mlmon-availability',
      signal: 'service',
      severity: 'page',
      expr: `up{job="${SERVICE_JOB}"} == 0`,
      for: '3m',
      labels: STATIC_LABELS,
      valueFormat: 'count',
      thresholdText: 'scrape failing',
      summary: 'mlmon instance {{ $labels.instance }} is down',
      description: 'Prometheus cannot scrape mlmon at {{ $labels.instance }}: predictions and actuals are not being recorded there.',
      runbookAnchor: 'service-down',
    },
    {
      // `up` exists only for the targets Prometheus knows: when service discovery loses every
      // mlmon target (a deleted deployment, a broken label selector), MLServiceDown has nothing to
      // compare and every mlmon alert falls silent with it.
      name: 'MLServiceTargetMissing',
      group: 'mlmon-availability',
      signal: 'service_target',
      severity: 'page',
      expr: `absent(up{job="${SERVICE_JOB}"}) == 1`,
      for: '3m',
      labels: STATIC_LABELS,
      valueFormat: 'count',
      thresholdText: 'no target scraped',
      summary: `Prometheus scrapes no mlmon instance (job ${SERVICE_JOB})`,
      description:
        `Prometheus has no target in job ${SERVICE_JOB}: no mlmon metric is collected and no other mlmon alert can fire. ` +
        `Predictions and actuals may not be recorded anywhere.`,
      runbookAnchor: 'service-target-missing',
    },
    {
      name: 'MLDatabaseDown',
      group: 'mlmon-availability',
      signal: 'database',
      severity: 'page',
      expr: 'mlmon_database_up == 0',
      for: '3m',
      labels: STATIC_LABELS,
      valueFormat: 'count',
      thresholdText: 'database unreachable',
      summary: 'mlmon instance {{ $labels.instance }} cannot reach its database',
      description: 'mlmon at {{ $labels.instance }} reports its PostgreSQL database unreachable: ingest fails and the quality gauges are frozen.',
      runbookAnchor: 'database-down',
    },
    {
      name: 'MLMetricsSnapshotStale',
      group: 'mlmon-availability',
      signal: 'metrics_snapshot',
      severity: 'ticket',
      expr: `mlmon_metrics_snapshot_age_seconds > ${maxAge}`,
      for: '10m',
      labels: STATIC_LABELS,
      valueFormat: 'duration',
      thresholdText: `> ${maxAge / SECONDS_PER_MINUTE} min`,
      summary: `mlmon quality gauges on {{ $labels.instance }} are ${valueTemplate('duration')} old (limit ${maxAge / SECONDS_PER_MINUTE} min)`,
      description: 'The quality gauges served by mlmon are not being refreshed, so the quality alerts judge old data.',
      runbookAnchor: 'metrics-snapshot-stale',
    },
  ];
}

export const alertDefinitions: readonly AlertDefinition[] = [
  ...maeAlerts(),
  ...accuracyAlerts(),
  ...r2Alerts(),
  ...anomalyAlerts(),
  ...biasAlerts(),
  ...latencyAlerts(),
  ...trafficAlerts(),
  ...availabilityAlerts(),
];

/** Rule groups in the order they are rendered. */
export const alertGroupOrder: readonly AlertGroupName[] = ['mlmon-quality', 'mlmon-latency', 'mlmon-traffic', 'mlmon-availability'];

/** Annotations every renderer attaches; `value` and `threshold` feed the notification template. */
export function alertAnnotations(definition: AlertDefinition, runbookUrl: string = RUNBOOK_URL): Record<string, string> {
  return {
    summary: definition.summary,
    description: definition.description,
    value: valueTemplate(definition.valueFormat),
    threshold: definition.thresholdText,
    runbook_url: `${runbookUrl}#${definition.runbookAnchor}`,
  };
}

/** Labels every renderer attaches. */
export function alertLabels(definition: AlertDefinition): Record<string, string> {
  return { ...definition.labels, severity: definition.severity, signal: definition.signal };
}
