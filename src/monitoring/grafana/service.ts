/** Service view: one service across the fleet — probes, restarts, leases and failovers. */
import { DashboardBuilder, DashboardCursorSync, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as common from '@grafana/grafana-foundation-sdk/common';
import { AGENT_METRICS, CONTROLLER_METRICS } from '../metric-names.js';
import {
  DASHBOARD_TAG, SERVER_LABEL, UP_DOWN, bars, cisternLinks, histogramQuantile, labelVariable, rangeQuery, selector,
  serviceStateTable, stat, stateTimeline, thresholds, timeseries,
} from './panels.js';

export const SERVICE_UID = 'cistern-service';

const OF_SERVICE = 'service="$service"';

export function serviceDashboard(): Dashboard {
  return new DashboardBuilder('Cistern / Service')
    .uid(SERVICE_UID).tags([DASHBOARD_TAG]).readonly()
    .description('One service on every server that runs it: probe verdicts and latency, restarts, lease epochs and failovers.')
    .time({ from: 'now-24h', to: 'now' }).refresh('1m').timezone('browser').tooltip(DashboardCursorSync.Crosshair)
    .link(cisternLinks())
    .withVariable(labelVariable('service', 'service', AGENT_METRICS.serviceUp))

    .withRow(new RowBuilder('$service'))
    .withPanel(serviceStateTable({
      title: 'Servers running $service', width: 12, height: 8,
      description: 'Probe verdict now, restarts over the time range, and the lease epoch each server holds (0: none).',
    }, SERVER_LABEL, OF_SERVICE))
    .withPanel(stat({
      title: 'Failovers', width: 4, height: 8,
      description: 'Failovers of this service over the time range.',
    }, rangeQuery(`sum(increase(${selector(CONTROLLER_METRICS.failovers, OF_SERVICE)}[$__range])) or vector(0)`, 'failovers'))
      .decimals(0).thresholds(thresholds([1, 'orange'])))
    .withPanel(stat({
      title: 'Restarts', width: 4, height: 8,
      description: 'Restarts of this service on all servers over the time range.',
    }, rangeQuery(`sum(increase(${selector(AGENT_METRICS.restarts, OF_SERVICE)}[$__range])) or vector(0)`, 'restarts'))
      .decimals(0).thresholds(thresholds([1, 'orange'])))
    .withPanel(stat({
      title: 'Since last backup', width: 4, height: 8, unit: 's',
      description: 'Time since the last successful backup of this service, on the server backed up most recently.',
    }, rangeQuery(`time() - max(${selector(CONTROLLER_METRICS.backupLastSuccess, OF_SERVICE)})`, 'age'))
      .noValue('no backups').thresholds(thresholds([2 * 86_400, 'orange'], [7 * 86_400, 'red'])))

    .withRow(new RowBuilder('Probes'))
    .withPanel(stateTimeline({
      title: 'Health by server', width: 24, height: 6,
      description: 'Probe verdicts of this service on each server over the time range.',
    }, rangeQuery(`max by (${SERVER_LABEL}) (${selector(AGENT_METRICS.serviceUp, OF_SERVICE)})`, `{{${SERVER_LABEL}}}`))
      .mappings(UP_DOWN))
    .withPanel(timeseries({
      title: 'Probe latency', width: 12, unit: 's',
      description: 'Quantiles of probe duration over all servers.',
    },
    rangeQuery(histogramQuantile(0.5, AGENT_METRICS.probeDuration, { matchers: [OF_SERVICE] }), 'p50', 'A'),
    rangeQuery(histogramQuantile(0.9, AGENT_METRICS.probeDuration, { matchers: [OF_SERVICE] }), 'p90', 'B'),
    rangeQuery(histogramQuantile(0.99, AGENT_METRICS.probeDuration, { matchers: [OF_SERVICE] }), 'p99', 'C')).min(0))
    .withPanel(timeseries({
      title: 'Probe latency p90 by server', width: 12, unit: 's',
      description: '90th percentile of probe duration on each server.',
    }, rangeQuery(
      histogramQuantile(0.9, AGENT_METRICS.probeDuration, { by: [SERVER_LABEL], matchers: [OF_SERVICE] }),
      `{{${SERVER_LABEL}}}`,
    )).min(0))

    .withRow(new RowBuilder('Restarts and failovers'))
    .withPanel(bars({
      title: 'Restarts by server', width: 8,
      description: 'Restarts the agents made, by server.',
    }, rangeQuery(
      `sum by (${SERVER_LABEL}) (increase(${selector(AGENT_METRICS.restarts, OF_SERVICE)}[$__rate_interval]))`,
      `{{${SERVER_LABEL}}}`,
    )))
    .withPanel(timeseries({
      title: 'Lease epoch by server', width: 8,
      description: 'The lease epoch each server holds for this single-writer service (0: none); a step is a hand-over.',
    }, rangeQuery(`max by (${SERVER_LABEL}) (${selector(AGENT_METRICS.leaseEpoch, OF_SERVICE)})`, `{{${SERVER_LABEL}}}`))
      .lineInterpolation(common.LineInterpolation.StepAfter).fillOpacity(0).decimals(0).min(0))
    .withPanel(bars({
      title: 'Failovers by cause', width: 8,
      description: 'Failovers the controller made for this service, by cause.',
    }, rangeQuery(`sum by (cause) (increase(${selector(CONTROLLER_METRICS.failovers, OF_SERVICE)}[$__rate_interval]))`, '{{cause}}')))
    .build();
}
