/**
 * Which metric names the generated monitoring files read that nobody exports: every name in an
 * alert rule (rules/*.yml) or a dashboard query (grafana/**.json) must be in metric-names.ts,
 * the lists of what Cistern's agent, its controller and the named exporters export.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { parse } from 'yaml';
import { dashboardExpressions, isExportedMetric, metricNamesInPromQL } from './grafana/index.js';

export interface FileText { path: string; content: string }

/** The PromQL of one generated file: rule expressions, or a dashboard's queries; none for other files. */
export function expressionsIn(file: FileText): string[] {
  if (/(^|\/)rules\/[^/]+\.rules\.ya?ml$/.test(file.path)) {
    const doc = parse(file.content) as { groups?: Array<{ rules?: Array<{ expr?: unknown }> }> } | null;
    return (doc?.groups ?? []).flatMap((g) => (g.rules ?? []).flatMap((r) => (typeof r.expr === 'string' ? [r.expr] : [])));
  }
  if (/(^|\/)grafana\/.*\.json$/.test(file.path)) return dashboardExpressions(JSON.parse(file.content) as Dashboard);
  return [];
}

export function unknownMetricNames(files: readonly FileText[]): Array<{ file: string; name: string }> {
  return files.flatMap((file) => {
    const names = new Set(expressionsIn(file).flatMap(metricNamesInPromQL));
    return [...names].filter((name) => !isExportedMetric(name)).map((name) => ({ file: file.path, name }));
  });
}
