/**
 * Building blocks the three dashboards share: the datasource reference, PromQL selectors and
 * panels with Cistern's defaults. Everything here is built with Grafana's foundation SDK.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardLinkBuilder, DashboardLinkType, MappingType, QueryVariableBuilder, ThresholdsConfigBuilder, ThresholdsMode,
  VariableRefresh, VariableSort, type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanelBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { AGENT_METRICS, type EXPORTER_METRICS } from '../metric-names.js';

/** The UID the provisioned Prometheus datasource has; every panel and query names it. */
export const DATASOURCE_UID = 'cistern-prometheus';
export const DATASOURCE = { type: 'prometheus', uid: DATASOURCE_UID } as const;

/** Tag on every Cistern dashboard; the dashboards' header links find each other by it. */
export const DASHBOARD_TAG = 'cistern';

/**
 * The scrape contract the dashboards rely on: every target on a box carries a `server` label with
 * the box's inventory name, and node_exporter targets are in job `node`.
 */
export const SERVER_LABEL = 'server';
export const NODE_JOB = 'node';

export type NodeMetric = (typeof EXPORTER_METRICS.nodeExporter)[number];

/** `metric{m1,m2}`; matchers are written out, e.g. `server="$server"`. */
export function selector(metric: string, ...matchers: string[]): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(',')}}`;
}

/** A node_exporter series, restricted to the node job. */
export function node(metric: NodeMetric, ...matchers: string[]): string {
  return selector(metric, `job="${NODE_JOB}"`, ...matchers);
}

/** Real filesystems only: tmpfs and friends would dominate "fullest disk". */
export const REAL_FILESYSTEMS = 'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|devtmpfs|autofs"';

export function rangeQuery(expr: string, legend: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(expr).legendFormat(legend).range();
}

/** An instant query returning a table frame, for table panels. */
export function tableQuery(expr: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(expr).instant().format(PromQueryFormat.Table);
}

export interface PanelOptions {
  title: string;
  description: string;
  /** Width in grid columns (of 24). */
  width: number;
  height?: number;
  unit?: string;
}

const legendBottom = () => new common.VizLegendOptionsBuilder()
  .showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);

export function timeseries(options: PanelOptions, ...queries: DataqueryBuilder[]): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder()
    .title(options.title).description(options.description).datasource(DATASOURCE)
    .span(options.width).height(options.height ?? 8)
    .lineWidth(1).fillOpacity(10).showPoints(common.VisibilityMode.Never).spanNulls(false)
    .legend(legendBottom())
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (options.unit !== undefined) panel.unit(options.unit);
  for (const query of queries) panel.withTarget(query);
  return panel;
}

/** A time series drawn as bars, for counts per interval (restarts, failovers). */
export function bars(options: PanelOptions, ...queries: DataqueryBuilder[]): TimeseriesPanelBuilder {
  return timeseries(options, ...queries)
    .drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80).decimals(0)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
}

export function stat(options: PanelOptions, ...queries: DataqueryBuilder[]): StatPanelBuilder {
  const panel = new StatPanelBuilder()
    .title(options.title).description(options.description).datasource(DATASOURCE)
    .span(options.width).height(options.height ?? 4)
    .graphMode(common.BigValueGraphMode.None).colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds());
  if (options.unit !== undefined) panel.unit(options.unit);
  for (const query of queries) panel.withTarget(query);
  return panel;
}

export function table(options: PanelOptions, ...queries: DataqueryBuilder[]): TablePanelBuilder {
  const panel = new TablePanelBuilder()
    .title(options.title).description(options.description).datasource(DATASOURCE)
    .span(options.width).height(options.height ?? 8);
  if (options.unit !== undefined) panel.unit(options.unit);
  for (const query of queries) panel.withTarget(query);
  return panel;
}

export function stateTimeline(options: PanelOptions, ...queries: DataqueryBuilder[]): StateTimelinePanelBuilder {
  const panel = new StateTimelinePanelBuilder()
    .title(options.title).description(options.description).datasource(DATASOURCE)
    .span(options.width).height(options.height ?? 8)
    .showValue(common.VisibilityMode.Never).mergeValues(true).rowHeight(0.9)
    .legend(legendBottom());
  for (const query of queries) panel.withTarget(query);
  return panel;
}

/** 1 → `on` in green, 0 → `off` in red, for 0/1 gauges. */
export function binaryMapping(on: string, off: string): ValueMapping[] {
  return [{
    type: MappingType.ValueToText,
    options: { 0: { text: off, color: 'red', index: 1 }, 1: { text: on, color: 'green', index: 0 } },
  }];
}

export const UP_DOWN = binaryMapping('up', 'down');

/** Colours of the probe verdicts in `cistern_agent_service_state`'s `state` label. */
const STATE_COLORS = {
  healthy: 'green', starting: 'blue', unhealthy: 'orange', misconfigured: 'purple', failed: 'red', stopped: 'text',
} as const;

export const STATE_MAPPING: ValueMapping[] = [{
  type: MappingType.ValueToText,
  options: Object.fromEntries(Object.entries(STATE_COLORS).map(([state, color], index) => [state, { color, index }])),
}];

/** `histogram_quantile(q, sum by (le, ...by) (rate(metric_bucket{matchers}[$__rate_interval])))`. */
export function histogramQuantile(q: number, histogram: string, options: { by?: string[]; matchers?: string[] } = {}): string {
  const by = ['le', ...(options.by ?? [])].join(', ');
  const buckets = selector(`${histogram}_bucket`, ...(options.matchers ?? []));
  return `histogram_quantile(${q}, sum by (${by}) (rate(${buckets}[$__rate_interval])))`;
}

/** Green below the first step; each `[value, color]` step colours from its value up. */
export function thresholds(...steps: [number, string][]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute)
    .steps([{ value: null, color: 'green' }, ...steps.map(([value, color]) => ({ value, color }))]);
}

/** A single-valued variable filled from `label_values(metric, label)`. */
export function labelVariable(name: string, label: string, metric: string): QueryVariableBuilder {
  const query = `label_values(${metric}, ${label})`;
  return new QueryVariableBuilder(name)
    .label(label).datasource(DATASOURCE)
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' }).definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged).sort(VariableSort.AlphabeticalCaseInsensitiveAsc)
    .multi(false).includeAll(false);
}

/** The header link on every dashboard to the other Cistern dashboards, keeping time and variables. */
export function cisternLinks(): DashboardLinkBuilder {
  return new DashboardLinkBuilder('Cistern')
    .type(DashboardLinkType.Dashboards).tags([DASHBOARD_TAG]).asDropdown(true)
    .includeVars(true).keepTime(true).icon('external link').tooltip('').targetBlank(false);
}

/**
 * One row per service (or server) with its probe verdict now, its restarts over the time range and
 * the lease epoch it holds: three instant queries merged on the `by` label.
 */
export function serviceStateTable(options: PanelOptions, by: 'service' | typeof SERVER_LABEL, matcher: string): TablePanelBuilder {
  return table(
    options,
    tableQuery(`max by (${by}, state) (${selector(AGENT_METRICS.serviceState, matcher)} == 1)`, 'A'),
    tableQuery(`sum by (${by}) (increase(${selector(AGENT_METRICS.restarts, matcher)}[$__range]))`, 'B'),
    tableQuery(`max by (${by}) (${selector(AGENT_METRICS.leaseEpoch, matcher)})`, 'C'),
  )
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true, 'Value #A': true },
        renameByName: { 'Value #B': 'restarts', 'Value #C': 'lease epoch' },
        indexByName: { [by]: 0, state: 1, 'Value #B': 2, 'Value #C': 3 },
      },
    })
    .decimals(0)
    .overrideByName('state', [
      { id: 'mappings', value: STATE_MAPPING },
      { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
    ]);
}
