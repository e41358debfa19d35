/** The dashboards Cistern provisions, the file each is written to, and the PromQL each runs. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetOverviewDashboard } from './fleet-overview.js';
import { metricNamesInPromQL } from './promql.js';
import { serverDashboard } from './server.js';
import { serviceDashboard } from './service.js';

export interface CisternDashboard {
  /** File name under the dashboards folder. */
  file: string;
  dashboard: Dashboard;
}

/** Built afresh on each call: the SDK's builders hand out mutable objects. */
export function cisternDashboards(): CisternDashboard[] {
  return [
    { file: 'fleet-overview.json', dashboard: numberPanels(fleetOverviewDashboard()) },
    { file: 'server.json', dashboard: numberPanels(serverDashboard()) },
    { file: 'service.json', dashboard: numberPanels(serviceDashboard()) },
  ];
}

interface PanelLike { id?: number; targets?: unknown[]; panels?: PanelLike[] }

function panelsOf(dashboard: Dashboard): PanelLike[] {
  return ((dashboard.panels ?? []) as PanelLike[]).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Panel ids in layout order, so the same dashboard always comes out byte for byte the same. */
function numberPanels(dashboard: Dashboard): Dashboard {
  panelsOf(dashboard).forEach((panel, index) => { panel.id = index + 1; });
  return dashboard;
}

/** Every PromQL expression the dashboard runs: panel queries and variable queries. */
export function dashboardExpressions(dashboard: Dashboard): string[] {
  const exprs: string[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of panel.targets ?? []) {
      const expr = (target as { expr?: unknown }).expr;
      if (typeof expr === 'string') exprs.push(expr);
    }
  }
  for (const variable of dashboard.templating.list ?? []) {
    const query: unknown = variable.query;
    if (typeof query === 'string') exprs.push(query);
    else if (typeof query === 'object' && query !== null && typeof (query as { query?: unknown }).query === 'string') {
      exprs.push((query as { query: string }).query);
    }
  }
  return exprs;
}

/** The metric names each dashboard reads, by dashboard UID: for the check against metric-names.ts. */
export function dashboardMetricNames(): Record<string, string[]> {
  return Object.fromEntries(cisternDashboards().map(({ dashboard }) => [
    dashboard.uid ?? dashboard.title,
    [...new Set(dashboardExpressions(dashboard).flatMap(metricNamesInPromQL))].sort(),
  ]));
}
