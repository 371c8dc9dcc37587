import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Sql } from '../../db/connect.js';
import { metricsOf, rounded } from '../../aggregate/metrics.js';
import { EMPTY_AGGREGATE, type Aggregate } from '../../aggregate/moments.js';
import { trailingWindows } from '../../aggregate/reports.js';
import { HOUR_US, DAY_US, MICROS_PER_MS } from '../../aggregate/window.js';
import type { ErrorRules } from '../../aggregate/contribution.js';
import { readFlags } from '../../store/feature-flags.js';
import { readReport } from '../../store/read-window.js';
import { DEFAULT_EVENT_LOOP_METRICS, registerEventLoopDelay } from './event-loop.js';
import { SnapshotRefresher } from './refresher.js';
import { CounterVersionLabels, limitVersions } from './version-labels.js';

const GAUGE_WINDOWS = { '1h': HOUR_US, '24h': DAY_US, '7d': 7 * DAY_US } as const;

export type RejectReason = 'invalid' | 'unauthorized' | 'too_large' | 'unsupported_media_type' | 'database_unavailable' | 'other';

export interface ExporterOptions {
  sql: Sql;
  rules: ErrorRules;
  /**
   * How old the quality gauges may be: while /metrics is scraped they are read from the database
   * every `cacheSeconds` in the background, so that a scrape never waits for the database.
   * 0 reads them during every scrape.
   */
  cacheSeconds: number;
  /** Versions with series of their own; the rest are labelled `other` (version-labels.ts). */
  maxModelVersions: number;
  /** A failed refresh: the first of a run of failures, then at most one per minute. */
  onRefreshError?: (error: unknown) => void;
  /** The first successful refresh after failures, with how long they lasted. */
  onRefreshRecovered?: (failedForMs: number) => void;
}

/**
 * Everything /metrics shows. Quality gauges are read from the database's rollups (so replicas
 * agree), ahead of the scrapes (`cacheSeconds`); counters and histograms count what this process
 * did (sum them across replicas in PromQL).
 */
export class Exporter {
  readonly registry = new Registry();
  private readonly labels = ['window', 'model_version'] as const;
  private readonly quality = {
    mae: this.gauge('ml_prediction_mae_seconds', 'Mean absolute error of labelled predictions in the window'),
    rmse: this.gauge('ml_prediction_rmse_seconds', 'Root mean squared error of labelled predictions in the window'),
    bias: this.gauge('ml_prediction_bias_seconds', 'Mean of predicted minus actual delay of labelled predictions in the window (positive: the model predicts longer delays than happen)'),
    r2: this.gauge('ml_prediction_r2', 'Coefficient of determination (R²) of labelled predictions in the window'),
    accuracy: this.gauge('ml_prediction_accuracy_ratio', 'Share of labelled predictions with error under the tolerance'),
    confidence: this.gauge('ml_prediction_confidence_avg_ratio', 'Average model confidence of predictions in the window'),
    latency: this.gauge('ml_prediction_latency_avg_seconds', 'Average prediction latency in the window'),
    predictions: this.gauge('ml_prediction_window_predictions', 'Predictions created in the window'),
    labelled: this.gauge('ml_prediction_window_labeled', 'Predictions in the window that have an actual'),
    anomalies: this.gauge('ml_prediction_window_anomalies', 'Labelled predictions in the window with error over the anomaly threshold'),
  };
  // Registered at the first read of the flag (flagsRead): a gauge without labels is exposed as 0
  // from its creation, which would report an unread flag as off at 0 % (on the dashboard, and to
  // the alerts that only watch while the flag is on) after a start with the database away.
  private readonly flagEnabled = new Gauge({ name: 'ml_feature_flag_enabled', help: 'Whether the ML rollout flag is on (1) or off (0)', registers: [] });
  private readonly flagTraffic = new Gauge({ name: 'ml_feature_flag_traffic_ratio', help: 'Configured share of bookings for the ML model (routed there only while ml_feature_flag_enabled is 1)', registers: [] });
  private flagsRead = false;
  private readonly databaseUp = new Gauge({ name: 'mlmon_database_up', help: 'Whether the last read of the database succeeded (1) or not (0)', registers: [this.registry] });
  private readonly snapshotAge = new Gauge({ name: 'mlmon_metrics_snapshot_age_seconds', help: 'Seconds since the quality gauges served were read from the database (since the start until a first read succeeds); grows while the database is unreachable', registers: [this.registry] });
  private readonly latencyHistogram = new Histogram({
    name: 'ml_prediction_latency_seconds',
    help: 'Prediction latency reported with live predictions (prediction_time_ms; history is left out)',
    labelNames: ['model_version'],
    buckets: [0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly ingested = new Counter({ name: 'ml_predictions_ingested_total', help: 'Predictions stored (retried duplicates not counted)', labelNames: ['model_version'], registers: [this.registry] });
  private readonly actualsIngested = new Counter({ name: 'ml_actuals_ingested_total', help: 'Actuals received', registers: [this.registry] });
  private readonly rejected = new Counter({ name: 'ml_ingest_rejected_total', help: 'Write requests refused, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly requests = new Counter({ name: 'ml_requests_total', help: 'ML requests by outcome: success per live prediction logged (history is left out), failure per reported failure', labelNames: ['outcome'], registers: [this.registry] });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly stopEventLoopDelay: () => void;
  private readonly counterVersionLabels: CounterVersionLabels;
  private readonly refresher: SnapshotRefresher;

  constructor(private readonly options: ExporterOptions) {
    this.counterVersionLabels = new CounterVersionLabels(options.maxModelVersions);
    this.refresher = new SnapshotRefresher({
      cacheSeconds: options.cacheSeconds,
      read: () => this.readGauges(),
      onHealth: (up) => this.databaseUp.set(up ? 1 : 0),
      onRefreshError: options.onRefreshError,
      onRefreshRecovered: options.onRefreshRecovered,
    });
    // prom-client's event-loop collector cannot be left out: it is removed below and replaced
    // (event-loop.ts), its own sampler slowed to once a second so that it costs nothing.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    // Gauges named like counters break the naming convention (promtool check metrics flags them);
    // nodejs_active_{handles,requests,resources} report the same numbers by type.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total', ...DEFAULT_EVENT_LOOP_METRICS]) {
      this.registry.removeSingleMetric(name);
    }
    this.stopEventLoopDelay = registerEventLoopDelay(this.registry);
    this.requests.inc({ outcome: 'success' }, 0);
    this.requests.inc({ outcome: 'failure' }, 0);
  }

  private gauge(name: string, help: string): Gauge<'window' | 'model_version'> {
    return new Gauge({ name, help, labelNames: this.labels, registers: [this.registry] });
  }

  /** Stops the background refresh and the event-loop sampler; the registry keeps its last values. */
  close(): void {
    this.refresher.close();
    this.stopEventLoopDelay();
  }

  requestAnswered(labels: { method: string; route: string; status_code: string }, seconds: number): void {
    this.httpDuration.observe(labels, seconds);
  }

  /** Stored predictions: all count as ingested; only live ones (not history) as requests and latencies. */
  predictionsStored(stored: { model_version: string; prediction_time_ms: number | null; live: boolean }[]): void {
    // Labels are resolved once per version, not per row: a batch holds thousands of rows and few versions.
    const byVersion = new Map<string, { label: string; stored: number; latency: Histogram.Internal<'model_version'> }>();
    let live = 0;
    for (const p of stored) {
      const key = `${p.live ? 'live' : 'history'}\u0000${p.model_version}`;
      let version = byVersion.get(key);
      if (version === undefined) {
        const label = this.counterVersionLabels.labelOf(p.model_version, p.live);
        version = { label, stored: 0, latency: this.latencyHistogram.labels({ model_version: label }) };
        byVersion.set(key, version);
      }
      version.stored += 1;
      if (!p.live) continue;
      live += 1;
      if (p.prediction_time_ms !== null) version.latency.observe(p.prediction_time_ms / 1000);
    }
    for (const { label, stored: count } of byVersion.values()) this.ingested.inc({ model_version: label }, count);
    this.requests.inc({ outcome: 'success' }, live);
  }

  actualsStored(count: number): void {
    this.actualsIngested.inc(count);
  }

  failuresReported(count: number): void {
    this.requests.inc({ outcome: 'failure' }, count);
  }

  rejectedWrite(reason: RejectReason): void {
    this.rejected.inc({ reason });
  }

  /**
   * The exposition text. While the gauges are kept fresh in the background it never waits for the
   * database; the first scrape after a quiet spell (or every scrape with `cacheSeconds` 0) reads
   * it first, waiting a bounded time before serving the last good values (refresher.ts).
   */
  async render(): Promise<string> {
    await this.refresher.beforeScrape();
    this.snapshotAge.set(this.refresher.ageSeconds());
    return this.registry.metrics();
  }

  /** The quality gauges and the flag, from the database: what the refresher keeps fresh. */
  private async readGauges(): Promise<void> {
    const { sql, rules } = this.options;
    const nowUs = Date.now() * MICROS_PER_MS;
    const [flags, windows] = await Promise.all([readFlags(sql), readReport(sql, trailingWindows(rules, nowUs, Object.values(GAUGE_WINDOWS)))]);
    this.setQualityGauges(windows);
    this.flagEnabled.set(flags.ml_enabled ? 1 : 0);
    this.flagTraffic.set(flags.ml_traffic_percentage / 100);
    if (!this.flagsRead) {
      this.flagsRead = true;
      this.registry.registerMetric(this.flagEnabled);
      this.registry.registerMetric(this.flagTraffic);
    }
  }

  /**
   * Versions are those seen in the widest window, as many as allowed (the rest as `other`): one that
   * left the last 7 days loses its series.
   */
  private setQualityGauges(allVersions: Map<string, Aggregate>[]): void {
    for (const gauge of Object.values(this.quality)) gauge.reset();
    const windows = limitVersions(allVersions, this.options.maxModelVersions);
    const versions = [...windows[windows.length - 1]!.keys()];
    Object.keys(GAUGE_WINDOWS).forEach((window, i) => {
      for (const model_version of versions) {
        const m = metricsOf(windows[i]!.get(model_version) ?? EMPTY_AGGREGATE);
        const labels = { window, model_version };
        const set = (gauge: Gauge<'window' | 'model_version'>, value: number | null, scale = 1) => {
          // Rounded again after the change of unit: 1.72104166667 minutes are 103.2625000002 s, not 103.26250000019999.
          if (value !== null) gauge.set(labels, rounded(value * scale));
        };
        set(this.quality.mae, m.mae, 60);
        set(this.quality.rmse, m.rmse, 60);
        set(this.quality.bias, m.bias, 60);
        set(this.quality.r2, m.r2);
        set(this.quality.accuracy, m.accuracy_rate);
        set(this.quality.confidence, m.avg_confidence);
        set(this.quality.latency, m.avg_prediction_time_ms, 1 / 1000);
        set(this.quality.predictions, m.predictions);
        set(this.quality.labelled, m.count);
        set(this.quality.anomalies, m.anomalies);
      }
    });
  }
}
