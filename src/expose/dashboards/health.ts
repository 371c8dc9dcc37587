/** "mlmon service health": ingest, rejections, HTTP latency, database, process. */
import { MappingType, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { thresholds as alertThresholds } from '../alerting/definitions.js';
import { BAD, GOOD, HEALTH_UID, PROMETHEUS, QUALITY_UID, WARN, mlmonDashboard, placeAbovePanels, promRange, promStat, shownLegend, thresholds } from './common.js';

function graph(id: number, title: string, description: string, unit: string, span = 12): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().id(id).title(title).description(description).datasource(PROMETHEUS).legend(shownLegend()).unit(unit).height(8).span(span);
}

const upDown = (down: string, up: string) => [
  { type: MappingType.ValueToText as const, options: { '0': { text: down, color: BAD, index: 0 }, '1': { text: up, color: GOOD, index: 1 } } },
];

const quantiles = [0.5, 0.95, 0.99] as const;

export function healthDashboard(): Dashboard {
  const latency = graph(20, 'HTTP latency p50 / p95 / p99 by route', 'From http_request_duration_seconds; one line per route and quantile.', 's', 24);
  quantiles.forEach((q, i) =>
    latency.withTarget(
      promRange(
        String.fromCharCode(65 + i),
        `histogram_quantile(${q}, sum by (le, route) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`,
        `p${q * 100} {{route}}`,
      ),
    ),
  );

  const dashboard = mlmonDashboard({
    title: 'mlmon service health',
    uid: HEALTH_UID,
    description: 'The mlmon ingest service: scrape, database, ingest and rejection rates, HTTP latency, memory and event loop.',
    tags: ['mlmon', 'service'],
    from: 'now-6h',
    link: { title: 'ML prediction quality', uid: QUALITY_UID },
  })
    .withRow(new RowBuilder('Status').id(100))
    .withPanel(promStat(1, 'Service scraped', 'Prometheus reaches /metrics (up{job="mlmon"}).', 'up{job="mlmon"}').unit('none').mappings(upDown('DOWN', 'UP')).thresholds(thresholds(BAD, [1, GOOD])))
    .withPanel(promStat(2, 'Database', 'Whether the last read of PostgreSQL succeeded (mlmon_database_up).', 'mlmon_database_up').unit('none').mappings(upDown('DOWN', 'UP')).thresholds(thresholds(BAD, [1, GOOD])))
    .withPanel(
      promStat(3, 'Quality gauges age', 'Age of the quality gauge values served; grows while the database is unreachable.', 'mlmon_metrics_snapshot_age_seconds')
        .unit('s')
        // Red where MLMetricsSnapshotStale starts counting toward its ticket.
        .thresholds(thresholds(GOOD, [60, WARN], [alertThresholds.metricsSnapshotMaxAgeSeconds, BAD])),
    )
    .withPanel(
      promStat(4, 'Rejected writes (1 h)', 'Write requests refused in the last hour, all reasons.', 'sum(increase(ml_ingest_rejected_total[1h]))')
        .unit('short')
        .noValue('0')
        .thresholds(thresholds(GOOD, [1, WARN])),
    )
    .withRow(new RowBuilder('Ingest').id(101))
    .withPanel(
      graph(10, 'Ingest rate', 'Predictions stored per second by model version, and actuals received.', 'ops')
        .withTarget(promRange('A', 'sum by (model_version) (rate(ml_predictions_ingested_total[$__rate_interval]))', 'predictions {{model_version}}'))
        .withTarget(promRange('B', 'sum(rate(ml_actuals_ingested_total[$__rate_interval]))', 'actuals')),
    )
    .withPanel(
      graph(11, 'Rejected writes by reason', 'Write requests refused per second, by reason (validation, auth, ...).', 'reqps').withTarget(
        promRange('A', 'sum by (reason) (rate(ml_ingest_rejected_total[$__rate_interval]))', '{{reason}}'),
      ),
    )
    .withRow(new RowBuilder('HTTP').id(102))
    .withPanel(latency)
    .withPanel(
      graph(21, 'HTTP requests by route and status', 'Requests per second.', 'reqps', 24).withTarget(
        promRange('A', 'sum by (route, status_code) (rate(http_request_duration_seconds_count[$__rate_interval]))', '{{route}} {{status_code}}'),
      ),
    )
    .withRow(new RowBuilder('Process').id(103))
    .withPanel(
      graph(30, 'Memory', 'Resident set size and V8 heap.', 'bytes', 12)
        .withTarget(promRange('A', 'process_resident_memory_bytes{job="mlmon"}', 'RSS {{instance}}'))
        .withTarget(promRange('B', 'nodejs_heap_size_used_bytes{job="mlmon"}', 'heap used {{instance}}'))
        .withTarget(promRange('C', 'nodejs_heap_size_total_bytes{job="mlmon"}', 'heap total {{instance}}')),
    )
    .withPanel(
      graph(31, 'Event-loop lag', 'Median and p99 event-loop delay between scrapes; sustained values above ~100 ms mean the process is saturated.', 's', 12)
        .withTarget(promRange('A', 'nodejs_eventloop_lag_p50_seconds{job="mlmon"}', 'p50 {{instance}}'))
        .withTarget(promRange('B', 'nodejs_eventloop_lag_p99_seconds{job="mlmon"}', 'p99 {{instance}}'))
        .thresholds(thresholds(GOOD, [0.1, WARN], [0.5, BAD])),
    )
    .build();
  return placeAbovePanels(dashboard);
}
