/** Server drill-down: one box's resources, its services, and its link to the controller. */
import * as common from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, DashboardCursorSync, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { AGENT_METRICS, CONTROLLER_METRICS } from '../metric-names.js';
import {
  DASHBOARD_TAG, NODE_JOB, REAL_FILESYSTEMS, SERVER_LABEL, UP_DOWN, bars, binaryMapping, cisternLinks, histogramQuantile, labelVariable,
  node, rangeQuery, selector, serviceStateTable, stat, stateTimeline, thresholds, timeseries,
} from './panels.js';

export const SERVER_UID = 'cistern-server';

const ON_SERVER = `${SERVER_LABEL}="$server"`;

export function serverDashboard(): Dashboard {
  return new DashboardBuilder('Cistern / Server')
    .uid(SERVER_UID).tags([DASHBOARD_TAG]).readonly()
    .description('One server: CPU, memory, disks, temperature, load, network, its services and its heartbeats.')
    .time({ from: 'now-6h', to: 'now' }).refresh('1m').timezone('browser').tooltip(DashboardCursorSync.Crosshair)
    .link(cisternLinks())
    .withVariable(labelVariable('server', SERVER_LABEL, 'up'))

    .withRow(new RowBuilder('$server'))
    .withPanel(stat({
      title: 'Node exporter', width: 4,
      description: 'Whether Prometheus can scrape node_exporter on this server.',
    }, rangeQuery(selector('up', `job="${NODE_JOB}"`, ON_SERVER), 'up'))
      .mappings(UP_DOWN).colorMode(common.BigValueColorMode.Background))
    .withPanel(stat({
      title: 'Controller link', width: 4,
      description: "Whether the agent's connection to the controller is open.",
    }, rangeQuery(selector(AGENT_METRICS.connected, ON_SERVER), 'connected'))
      .mappings(binaryMapping('connected', 'disconnected')).colorMode(common.BigValueColorMode.Background))
    .withPanel(stat({
      title: 'Heartbeat age', width: 4, unit: 's',
      description: "Seconds since the controller last heard this server's heartbeat.",
    }, rangeQuery(`max(${selector(CONTROLLER_METRICS.heartbeatAge, ON_SERVER)})`, 'age'))
      .thresholds(thresholds([60, 'orange'], [180, 'red'])))
    .withPanel(stat({
      title: 'Uptime', width: 4, unit: 's',
      description: 'Time since the server booted.',
    }, rangeQuery(`time() - ${node('node_boot_time_seconds', ON_SERVER)}`, 'uptime')))
    .withPanel(stat({
      title: 'Agent', width: 8,
      description: "The agent's version and hardware profile.",
    }, rangeQuery(selector(AGENT_METRICS.info, ON_SERVER), '{{version}} ({{profile}})'))
      .textMode(common.BigValueTextMode.Name))

    .withRow(new RowBuilder('Resources'))
    .withPanel(timeseries({
      title: 'CPU', width: 8, unit: 'percentunit',
      description: 'CPU time by mode, as a share of all cores.',
    }, rangeQuery(
      `sum by (mode) (rate(${node('node_cpu_seconds_total', ON_SERVER, 'mode!="idle"')}[$__rate_interval]))`
        + ` / scalar(count(${node('node_cpu_seconds_total', ON_SERVER, 'mode="idle"')}))`,
      '{{mode}}',
    )).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)).min(0).max(1))
    .withPanel(timeseries({
      title: 'Memory', width: 8, unit: 'bytes',
      description: 'Memory in use (total less available) and the total.',
    },
    rangeQuery(`${node('node_memory_MemTotal_bytes', ON_SERVER)} - ${node('node_memory_MemAvailable_bytes', ON_SERVER)}`, 'used', 'A'),
    rangeQuery(node('node_memory_MemTotal_bytes', ON_SERVER), 'total', 'B')).min(0))
    .withPanel(timeseries({
      title: 'Disk used', width: 8, unit: 'percentunit',
      description: 'Used share of each real filesystem, by mount point.',
    }, rangeQuery(
      `1 - ${node('node_filesystem_avail_bytes', ON_SERVER, REAL_FILESYSTEMS)} / ${node('node_filesystem_size_bytes', ON_SERVER, REAL_FILESYSTEMS)}`,
      '{{mountpoint}}',
    )).min(0).max(1).thresholds(thresholds([0.8, 'orange'], [0.9, 'red'])))
    .withPanel(timeseries({
      title: 'Temperature', width: 8, unit: 'celsius',
      description: 'Hardware monitor sensors and thermal zones (a Raspberry Pi reports only the latter).',
    },
    rangeQuery(`max by (chip, sensor) (${node('node_hwmon_temp_celsius', ON_SERVER)})`, '{{chip}} {{sensor}}', 'A'),
    rangeQuery(`max by (type) (${node('node_thermal_zone_temp', ON_SERVER)})`, '{{type}}', 'B')))
    .withPanel(timeseries({
      title: 'Load', width: 8,
      description: 'One-minute load average, against the number of cores.',
    },
    rangeQuery(node('node_load1', ON_SERVER), 'load1', 'A'),
    rangeQuery(`count(${node('node_cpu_seconds_total', ON_SERVER, 'mode="idle"')})`, 'cores', 'B')).min(0))
    .withPanel(timeseries({
      title: 'Network', width: 8, unit: 'Bps',
      description: 'Bytes received (up) and sent (down) per interface, loopback left out.',
    },
    rangeQuery(
      `sum by (device) (rate(${node('node_network_receive_bytes_total', ON_SERVER, 'device!="lo"')}[$__rate_interval]))`,
      '{{device}} in', 'A',
    ),
    rangeQuery(
      `-sum by (device) (rate(${node('node_network_transmit_bytes_total', ON_SERVER, 'device!="lo"')}[$__rate_interval]))`,
      '{{device}} out', 'B',
    )))

    .withRow(new RowBuilder('Services'))
    .withPanel(serviceStateTable({
      title: 'Services on $server', width: 8, height: 9,
      description: 'Probe verdict now, restarts over the time range, and the lease epoch held (0: none).',
    }, 'service', ON_SERVER))
    .withPanel(stateTimeline({
      title: 'Service health', width: 16, height: 9,
      description: 'Probe verdicts of each service on this server over the time range.',
    }, rangeQuery(`max by (service) (${selector(AGENT_METRICS.serviceUp, ON_SERVER)})`, '{{service}}')).mappings(UP_DOWN))
    .withPanel(bars({
      title: 'Restarts', width: 24,
      description: 'Restarts the agent made, by service.',
    }, rangeQuery(`sum by (service) (increase(${selector(AGENT_METRICS.restarts, ON_SERVER)}[$__rate_interval]))`, '{{service}}')))

    .withRow(new RowBuilder('Heartbeats'))
    .withPanel(timeseries({
      title: 'Heartbeat age', width: 12, unit: 's',
      description: "Seconds since the last acknowledged heartbeat, as the agent and as the controller see it.",
    },
    rangeQuery(selector(AGENT_METRICS.heartbeatAge, ON_SERVER), "agent's view", 'A'),
    rangeQuery(selector(CONTROLLER_METRICS.heartbeatAge, ON_SERVER), "controller's view", 'B')).min(0))
    .withPanel(timeseries({
      title: 'Heartbeat round trip', width: 12, unit: 's',
      description: 'Round trip of heartbeats from the agent to the controller and back.',
    },
    rangeQuery(histogramQuantile(0.5, AGENT_METRICS.heartbeatRtt, { matchers: [ON_SERVER] }), 'p50', 'A'),
    rangeQuery(histogramQuantile(0.99, AGENT_METRICS.heartbeatRtt, { matchers: [ON_SERVER] }), 'p99', 'B')).min(0))
    .build();
}
