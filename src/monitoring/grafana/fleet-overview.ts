/** Fleet overview: is every box up, how loaded is each one, and which services are healthy where. */
import * as common from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, DashboardCursorSync, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { AGENT_METRICS, CONTROLLER_METRICS } from '../metric-names.js';
import {
  DASHBOARD_TAG, NODE_JOB, REAL_FILESYSTEMS, SERVER_LABEL, UP_DOWN, bars, cisternLinks, node, rangeQuery, selector, stat,
  stateTimeline, table, tableQuery, thresholds, timeseries,
} from './panels.js';

export const FLEET_OVERVIEW_UID = 'cistern-fleet-overview';

export function fleetOverviewDashboard(): Dashboard {
  return new DashboardBuilder('Cistern / Fleet overview')
    .uid(FLEET_OVERVIEW_UID).tags([DASHBOARD_TAG]).readonly()
    .description('Every server: up or down, CPU, memory and disk, and the health of each service on each server.')
    .time({ from: 'now-6h', to: 'now' }).refresh('1m').timezone('browser').tooltip(DashboardCursorSync.Crosshair)
    .link(cisternLinks())

    .withRow(new RowBuilder('Fleet'))
    .withPanel(stat({
      title: 'Servers up', width: 4,
      description: `Servers whose node_exporter answers Prometheus (up{job="${NODE_JOB}"}).`,
    }, rangeQuery(`sum(${selector('up', `job="${NODE_JOB}"`)})`, 'up')).decimals(0))
    .withPanel(stat({
      title: 'Servers down', width: 4,
      description: `Servers whose node_exporter does not answer Prometheus.`,
    }, rangeQuery(`count(${selector('up', `job="${NODE_JOB}"`)} == 0) or vector(0)`, 'down'))
      .decimals(0).thresholds(thresholds([1, 'red'])).colorMode(common.BigValueColorMode.Background))
    .withPanel(stat({
      title: 'Servers by health', width: 8,
      description: 'Servers by the health the controller gives them (healthy, suspect, degraded, unreachable, down, unknown).',
    }, rangeQuery(`sum by (health) (${CONTROLLER_METRICS.servers})`, '{{health}}'))
      .decimals(0).textMode(common.BigValueTextMode.ValueAndName))
    .withPanel(stat({
      title: 'Pending boxes', width: 4,
      description: 'Boxes found on the network and waiting in `cistern discover` for approval.',
    }, rangeQuery(`sum(${CONTROLLER_METRICS.pending})`, 'pending')).decimals(0).thresholds(thresholds([1, 'orange'])))
    .withPanel(stat({
      title: 'Unplaceable services', width: 4,
      description: 'Services the controller could not place on any server.',
    }, rangeQuery(`sum(${CONTROLLER_METRICS.unplaceable})`, 'unplaceable')).decimals(0).thresholds(thresholds([1, 'red'])))

    .withRow(new RowBuilder('Resources'))
    .withPanel(timeseries({
      title: 'CPU busy', width: 8, unit: 'percentunit',
      description: 'Share of CPU time not idle, averaged over all cores of each server.',
    }, rangeQuery(
      `1 - avg by (${SERVER_LABEL}) (rate(${node('node_cpu_seconds_total', 'mode="idle"')}[$__rate_interval]))`,
      `{{${SERVER_LABEL}}}`,
    )).min(0).max(1))
    .withPanel(timeseries({
      title: 'Memory used', width: 8, unit: 'percentunit',
      description: 'Share of memory not available to new processes (1 - MemAvailable / MemTotal).',
    }, rangeQuery(
      `1 - ${node('node_memory_MemAvailable_bytes')} / ${node('node_memory_MemTotal_bytes')}`,
      `{{${SERVER_LABEL}}}`,
    )).min(0).max(1))
    .withPanel(timeseries({
      title: 'Fullest disk', width: 8, unit: 'percentunit',
      description: 'Used share of the fullest real filesystem on each server.',
    }, rangeQuery(
      `max by (${SERVER_LABEL}) (1 - ${node('node_filesystem_avail_bytes', REAL_FILESYSTEMS)} / ${node('node_filesystem_size_bytes', REAL_FILESYSTEMS)})`,
      `{{${SERVER_LABEL}}}`,
    )).min(0).max(1).thresholds(thresholds([0.8, 'orange'], [0.9, 'red'])))

    .withRow(new RowBuilder('Services'))
    .withPanel(table({
      title: 'Service health matrix', width: 12, height: 10,
      description: 'Each service on each server: up when its last probe was healthy. Rows are servers, columns services.',
    }, tableQuery(`max by (${SERVER_LABEL}, service) (${AGENT_METRICS.serviceUp})`))
      .withTransformation({
        id: 'groupingToMatrix',
        options: { columnField: 'service', rowField: SERVER_LABEL, valueField: 'Value', emptyValue: 'null' },
      })
      .mappings(UP_DOWN).noValue('-')
      .cellOptions({ type: common.TableCellDisplayMode.ColorBackground }))
    .withPanel(stateTimeline({
      title: 'Service health over time', width: 12, height: 10,
      description: 'Probe verdicts of every service on every server over the time range.',
    }, rangeQuery(`max by (${SERVER_LABEL}, service) (${AGENT_METRICS.serviceUp})`, `{{${SERVER_LABEL}}} / {{service}}`))
      .mappings(UP_DOWN))
    .withPanel(bars({
      title: 'Failovers', width: 12,
      description: 'Failovers the controller made, by service and cause.',
    }, rangeQuery(`sum by (service, cause) (increase(${CONTROLLER_METRICS.failovers}[$__rate_interval]))`, '{{service}} ({{cause}})')))
    .withPanel(bars({
      title: 'Restarts', width: 12,
      description: 'Service restarts the agents made, by server and service.',
    }, rangeQuery(
      `sum by (${SERVER_LABEL}, service) (increase(${AGENT_METRICS.restarts}[$__rate_interval]))`,
      `{{${SERVER_LABEL}}} / {{service}}`,
    )))
    .build();
}
