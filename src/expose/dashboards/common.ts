/**
 * Shared pieces of the generated dashboards: the provisioned data sources (fixed uids, see
 * provisioning/datasources/datasources.yml), Prometheus and mlmon-plugin query builders, thresholds.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type Dashboard,
  type DataSourceRef,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  BigValueColorMode,
  BigValueGraphMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { DATASOURCE_UIDS } from '../datasource-uids.js';
import * as stat from '@grafana/grafana-foundation-sdk/stat';

export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: DATASOURCE_UIDS.prometheus };
export const MLMON_API: DataSourceRef = { type: 'mlmon-predictions-datasource', uid: DATASOURCE_UIDS.mlmonApi };

export const QUALITY_UID = 'mlmon-ml-quality';
export const HEALTH_UID = 'mlmon-service-health';

/** Seed colours: good green, warning orange, bad red. */
export const GOOD = 'green';
export const WARN = 'orange';
export const BAD = 'red';

/** Absolute thresholds; the first step is the base colour (value null). */
export function thresholds(base: string, ...steps: Array<[number, string]>): ThresholdsConfigBuilder {
  const all: Threshold[] = [{ value: null as unknown as number, color: base }, ...steps.map(([value, color]) => ({ value, color }))];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(all);
}

/**
 * The legend of a time series panel, shown: the SDK's default hides it (`showLegend: false`), and
 * these panels draw one series per model version, route or quantile, told apart by their legend.
 */
export function shownLegend(): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]);
}

/**
 * Drops the `placement` the SDK sets on every dashboard link, annotation and panel link: its only
 * value, "inControlsMenu", moves links and annotation toggles into Grafana's (12.3+) dashboard
 * controls drop-down, while absent means "above the panels", where these belong.
 */
export function placeAbovePanels(dashboard: Dashboard): Dashboard {
  const strip = <T extends object>(item: T): T => {
    const { placement: _placement, ...rest } = item as T & { placement?: unknown };
    return rest as T;
  };
  return {
    ...dashboard,
    links: dashboard.links?.map(strip),
    annotations: dashboard.annotations && { ...dashboard.annotations, list: dashboard.annotations.list?.map(strip) },
    panels: dashboard.panels?.map((panel) => ('links' in panel && panel.links ? { ...panel, links: panel.links.map(strip) } : panel)),
  };
}

/** A Prometheus range query (for time series panels). */
export function promRange(refId: string, expr: string, legend = '__auto'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).refId(refId).expr(expr).range().legendFormat(legend);
}

/** A Prometheus instant query (for stat panels: the current value). */
function promInstant(refId: string, expr: string, legend = '__auto'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).refId(refId).expr(expr).instant().legendFormat(legend);
}

/** A stat panel of a Prometheus query's current value on its threshold colour (4 high, a quarter wide). */
export function promStat(id: number, title: string, description: string, expr: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .id(id)
    .title(title)
    .description(description)
    .datasource(PROMETHEUS)
    .withTarget(promInstant('A', expr))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .height(4)
    .span(6);
}

/**
 * The query model of the mlmon data source plugin (src/plugin/src/types.ts, MlmonQuery). Kept as a
 * plain copy here: the service build does not compile the plugin.
 */
export interface MlmonQuery {
  refId: string;
  queryType: 'timeseries' | 'window' | 'daily' | 'predictions' | 'anomalies' | 'summary';
  modelVersion?: string;
  metrics?: string[];
  days?: number;
  limit?: number;
  threshold?: number;
}

/** A cog builder for a plugin query, so it can be given to the SDK's panel builders. */
export function mlmonQuery(query: MlmonQuery): cog.Builder<cog.Dataquery> {
  return {
    build: () => ({ datasource: MLMON_API, ...query }) as unknown as cog.Dataquery,
  };
}

/** What every mlmon dashboard shares: refresh 30 s, shared crosshair, and a link to its sibling. */
export function mlmonDashboard(options: {
  title: string;
  uid: string;
  description: string;
  tags: string[];
  from: string;
  link: { title: string; uid: string };
}): DashboardBuilder {
  return new DashboardBuilder(options.title)
    .uid(options.uid)
    .description(options.description)
    .tags(options.tags)
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: options.from, to: 'now' })
    .timezone('browser')
    .link(
      new DashboardLinkBuilder(options.link.title)
        .type(DashboardLinkType.Link)
        .url(`/d/${options.link.uid}`)
        .keepTime(true)
        .icon('dashboard')
        .tooltip('')
        .asDropdown(false)
        .targetBlank(false)
        .includeVars(false)
        .tags([]),
    );
}
