/** "ML prediction quality": the seed's React page, as a Grafana dashboard. */
import {
  AnnotationQueryBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { BigValueColorMode, BigValueGraphMode, BigValueTextMode, ReduceDataOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { thresholds as alertThresholds } from '../alerting/definitions.js';
import { BAD, GOOD, HEALTH_UID, MLMON_API, PROMETHEUS, QUALITY_UID, WARN, mlmonDashboard, mlmonQuery, placeAbovePanels, promRange, promStat, shownLegend, thresholds } from './common.js';

/** The selected version; `all` is the exporter's fleet-wide series (and the default). */
const V = 'model_version="$model_version"';

/** Panel ids that links point at. */
export const ANOMALIES_TABLE_ID = 40;

/**
 * Card colours from the alert thresholds (the seed's targets): orange where a ticket's threshold
 * lies, red where a page's does, so that a card and its alert never disagree about where a value
 * turns bad. (An alert also waits for a minimum sample, per model version: a thin card may be red
 * with no page; docs/runbook.md.) R² keeps the seed's "excellent" from 0.70 in dark green.
 */
const { maeMinutes, accuracyRatio, r2, latencySeconds } = alertThresholds;
const MAE_STEPS = thresholds(GOOD, [maeMinutes.ticket * 60, WARN], [maeMinutes.page * 60, BAD]);
const ACCURACY_STEPS = thresholds(BAD, [accuracyRatio.page, WARN], [accuracyRatio.ticket, GOOD]);
const R2_STEPS = thresholds(BAD, [r2.page, WARN], [r2.ticket, GOOD], [0.7, 'dark-green']);
const LATENCY_STEPS = thresholds(GOOD, [latencySeconds.target, WARN], [latencySeconds.page, BAD]);

/** The quality dashboard's cards stand a row taller than promStat's default. */
const card = (...args: Parameters<typeof promStat>) => promStat(...args).height(5);

function trend(id: number, title: string, description: string, expr: string, unit: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .id(id)
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .withTarget(promRange('A', expr, '{{model_version}}'))
    .legend(shownLegend())
    .unit(unit)
    .height(8)
    .span(12);
}

export function qualityDashboard(): Dashboard {
  const dashboard = mlmonDashboard({
    title: 'ML prediction quality',
    uid: QUALITY_UID,
    description: 'Pickup-delay model quality against the seed targets: MAE, R², accuracy, latency, feature flag, anomalies.',
    tags: ['mlmon', 'ml'],
    from: 'now-24h',
    link: { title: 'Service health', uid: HEALTH_UID },
  })
    .withVariable(
      new QueryVariableBuilder('model_version')
        .label('Model version')
        .description('"all" is the whole fleet (the exporter\'s model_version="all" series).')
        .datasource(PROMETHEUS)
        .query({ query: 'label_values(ml_prediction_window_predictions, model_version)', refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 })
        .definition('label_values(ml_prediction_window_predictions, model_version)')
        .current({ text: 'all', value: 'all', selected: true })
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(false)
        .includeAll(false),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Anomalies')
        .datasource(MLMON_API)
        .enable(true)
        .iconColor(BAD)
        .target(mlmonQuery({ refId: 'Anno', queryType: 'anomalies', modelVersion: '$model_version' })),
    )
    .withRow(new RowBuilder('Last 24 hours against the targets').id(100))
    .withPanel(
      card(1, 'MAE (24 h)', 'Mean absolute error of labelled predictions. Target < 3 min; 3–5 min investigate; > 5 min retrain.', `ml_prediction_mae_seconds{window="24h", ${V}}`)
        .unit('s')
        // Grafana shows 60 s and more in minutes, rounded to these decimals: 2.5 min must not read "3 min".
        .decimals(1)
        .thresholds(MAE_STEPS),
    )
    .withPanel(
      card(2, 'R² (24 h)', 'Coefficient of determination. Target > 0.65 (a ticket fires below it); > 0.70 excellent, < 0.50 bad.', `ml_prediction_r2{window="24h", ${V}}`)
        .unit('none')
        .decimals(2)
        .thresholds(R2_STEPS),
    )
    .withPanel(
      card(3, 'Accuracy (24 h)', 'Share of labelled predictions with error under 3 min. Target > 80 %; below 70 % investigate.', `ml_prediction_accuracy_ratio{window="24h", ${V}}`)
        .unit('percentunit')
        .decimals(1)
        .min(0)
        .max(1)
        .thresholds(ACCURACY_STEPS),
    )
    .withPanel(
      card(4, 'Avg prediction time (24 h)', 'Average model latency reported with the predictions. Target < 150 ms.', `ml_prediction_latency_avg_seconds{window="24h", ${V}}`)
        .unit('s')
        .thresholds(LATENCY_STEPS),
    )
    .withRow(new RowBuilder('Feature flag and anomalies').id(101))
    .withPanel(
      card(10, 'ML enabled', 'The rollout flag (PUT /feature-flags, `mlmon activate-ml`).', 'ml_feature_flag_enabled')
        .unit('none')
        .mappings([{ type: MappingType.ValueToText, options: { '0': { text: 'OFF', color: WARN, index: 0 }, '1': { text: 'ON', color: GOOD, index: 1 } } }])
        .thresholds(thresholds(WARN, [1, GOOD]))
        .span(6),
    )
    .withPanel(
      card(11, 'ML traffic', 'Configured share of bookings for the model; routed there only while ML is enabled.', 'ml_feature_flag_traffic_ratio')
        .unit('percentunit')
        .colorMode(BigValueColorMode.Value)
        .thresholds(thresholds('blue'))
        .span(6),
    )
    .withPanel(
      card(
        12,
        'ML success rate (24 h)',
        'Predictions logged / (logged + reported failures) over the last 24 h.',
        // No requests in 24 h would be 0/0 = NaN; the guard leaves no value instead.
        'sum(increase(ml_requests_total{outcome="success"}[24h])) / (sum(increase(ml_requests_total[24h])) > 0)',
      )
        .noValue('no requests')
        .unit('percentunit')
        .decimals(1)
        .thresholds(thresholds(BAD, [0.95, WARN], [0.99, GOOD]))
        .span(6),
    )
    .withPanel(
      // The seed's flag status showed the all-time total, which no gauge carries (they stop at 7 d,
      // and the ingest counter restarts with the process): the API's /summary has it.
      new stat.PanelBuilder()
        .id(16)
        .title('Total predictions')
        .description('Every prediction ever stored, all versions (GET /summary total_predictions, from the day rollups: those MLMON_RETENTION_DAYS dropped still count).')
        .datasource(MLMON_API)
        .withTarget(mlmonQuery({ refId: 'A', queryType: 'summary' }))
        // Grafana matches this against the display name the plugin gives the field.
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false).fields('/^Total predictions$/'))
        .unit('short')
        .colorMode(BigValueColorMode.Value)
        .graphMode(BigValueGraphMode.None)
        .thresholds(thresholds('blue'))
        .height(5)
        .span(6),
    )
    .withPanel(
      card(13, 'Predictions (24 h)', 'Predictions created in the last 24 h.', `ml_prediction_window_predictions{window="24h", ${V}}`)
        .unit('short')
        .colorMode(BigValueColorMode.Value)
        .thresholds(thresholds('blue'))
        .span(8),
    )
    .withPanel(
      card(14, 'Anomalies (24 h)', 'Labelled predictions with error > 5 min in the last 24 h. Click for the list.', `ml_prediction_window_anomalies{window="24h", ${V}}`)
        .unit('short')
        .noValue('0')
        .thresholds(thresholds(GOOD, [1, BAD]))
        .links([
          new DashboardLinkBuilder('Anomalies table')
            .type(DashboardLinkType.Link)
            .url(`/d/${QUALITY_UID}?viewPanel=panel-${ANOMALIES_TABLE_ID}&\${__url_time_range}&\${model_version:queryparam}`)
            .icon('external link')
            .tooltip('')
            .tags([])
            .asDropdown(false)
            .targetBlank(false)
            .includeVars(true)
            .keepTime(true),
        ])
        .span(8),
    )
    .withPanel(
      card(15, 'Label completeness (24 h)', 'Share of the last 24 h predictions that already have an actual (the ground truth arrives after the ride).', `ml_prediction_window_labeled{window="24h", ${V}} / ml_prediction_window_predictions{window="24h", ${V}}`)
        .unit('percentunit')
        .decimals(0)
        .thresholds(thresholds(BAD, [0.5, WARN], [0.8, GOOD]))
        .span(8),
    )
    .withRow(new RowBuilder('Trends by model version (1 h windows)').id(102))
    .withPanel(
      trend(20, 'MAE by model version', 'Rolling 1 h MAE; the seed target is < 3 min (180 s).', 'ml_prediction_mae_seconds{window="1h"}', 's').thresholds(MAE_STEPS),
    )
    .withPanel(
      trend(21, 'Accuracy by model version', 'Rolling 1 h share of predictions with error < 3 min; target > 80 %.', 'ml_prediction_accuracy_ratio{window="1h"}', 'percentunit')
        .min(0)
        .max(1)
        .thresholds(ACCURACY_STEPS),
    )
    .withPanel(trend(22, 'R² by model version', 'Rolling 1 h R²; target > 0.65, > 0.70 excellent, < 0.50 bad.', 'ml_prediction_r2{window="1h"}', 'none').thresholds(R2_STEPS))
    .withPanel(
      trend(
        23,
        'Prediction latency p95 by model version',
        'From the ml_prediction_latency_seconds histogram; target < 150 ms.',
        'histogram_quantile(0.95, sum by (le, model_version) (rate(ml_prediction_latency_seconds_bucket[$__rate_interval])))',
        's',
      ).thresholds(LATENCY_STEPS),
    )
    .withPanel(
      trend(
        24,
        'Bias by model version',
        'Rolling 1 h mean of predicted − actual delay: above 0 the model predicts longer delays than happen, below 0 shorter. ' +
          'The MAE cannot tell the two apart; a steady offset hints at a feature\'s unit or source having changed (docs/runbook.md).',
        'ml_prediction_bias_seconds{window="1h"}',
        's',
      ).span(24),
    )
    .withRow(new RowBuilder('From the mlmon API (plugin)').id(103))
    .withPanel(
      // The seed's third window: the gauges carry 1 h, 24 h and 7 d, the API any range.
      new stat.PanelBuilder()
        .id(31)
        .title('Last 30 days')
        .description('MAE, RMSE, bias (minutes), R², accuracy and counts over the last 30 days, whatever the dashboard\'s range.')
        .datasource(MLMON_API)
        .withTarget(mlmonQuery({ refId: 'A', queryType: 'window', modelVersion: '$model_version', metrics: ['predictions', 'count', 'mae', 'rmse', 'bias', 'r2', 'accuracy_rate', 'anomalies'] }))
        .timeFrom('30d')
        // Each field brings its unit from the plugin (minutes, percent, counts); panel defaults only fill in missing ones.
        .unit('short')
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .textMode(BigValueTextMode.ValueAndName)
        .colorMode(BigValueColorMode.None)
        .graphMode(BigValueGraphMode.None)
        .height(4)
        .span(24),
    )
    .withPanel(
      new table.PanelBuilder()
        .id(30)
        .title('Daily metrics (7 days)')
        .description('One row per UTC day: predictions, labelled, MAE, RMSE, bias, R², accuracy, confidence, latency, anomalies.')
        .datasource(MLMON_API)
        .withTarget(mlmonQuery({ refId: 'A', queryType: 'daily', days: 7, modelVersion: '$model_version' }))
        // The plugin's `day` text names the UTC day; its `date` time would show in the viewer's time zone.
        .overrideByName('date', [{ id: 'custom.hidden', value: true }])
        .height(8)
        .span(24),
    )
    .withPanel(
      new table.PanelBuilder()
        .id(ANOMALIES_TABLE_ID)
        .title('Anomalies (error > 5 min)')
        .description('Predictions in the time range whose error exceeds the service threshold; causes: exceptional conditions, a feature bug, drift.')
        .datasource(MLMON_API)
        .withTarget(mlmonQuery({ refId: 'A', queryType: 'anomalies', limit: 1000, modelVersion: '$model_version' }))
        .height(10)
        .span(12),
    )
    .withPanel(
      new table.PanelBuilder()
        .id(41)
        .title('Recent predictions')
        .description('The newest 100 predictions of the dashboard\'s time range, with their actuals and errors.')
        .datasource(MLMON_API)
        .withTarget(mlmonQuery({ refId: 'A', queryType: 'predictions', limit: 100, modelVersion: '$model_version' }))
        .height(10)
        .span(12),
    )
    .build();
  return placeAbovePanels(dashboard);
}
