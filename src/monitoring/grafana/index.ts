/** Grafana for the fleet: provisioning files and dashboards built with Grafana's foundation SDK. */
export { grafanaProvisioning, DEFAULT_DASHBOARDS_PATH, type GrafanaFile, type GrafanaOptions } from './provisioning.js';
export { cisternDashboards, dashboardExpressions, dashboardMetricNames, type CisternDashboard } from './dashboards.js';
export { metricNamesInPromQL } from './promql.js';
export { isExportedMetric } from './exported.js';
export { DATASOURCE_UID, SERVER_LABEL, NODE_JOB } from './panels.js';
export { FLEET_OVERVIEW_UID } from './fleet-overview.js';
export { SERVER_UID } from './server.js';
export { SERVICE_UID } from './service.js';
