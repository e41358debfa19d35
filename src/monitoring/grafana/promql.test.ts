import { describe, expect, it } from 'vitest';
import { isExportedMetric } from './exported.js';
import { metricNamesInPromQL } from './promql.js';

describe('metricNamesInPromQL', () => {
  it.each([
    ['up', ['up']],
    ['up{job="node"} == 0', ['up']],
    ['sum by (server, service) (increase(cistern_agent_service_restarts_total{service="$service"}[$__rate_interval]))',
      ['cistern_agent_service_restarts_total']],
    ['1 - avg without (cpu) (rate(node_cpu_seconds_total{mode="idle"}[5m] offset 1h))', ['node_cpu_seconds_total']],
    ['histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket[1m])))', ['x_seconds_bucket']],
    ['a / on (server) group_left (version) b', ['a', 'b']],
    ['count(up == 0) or vector(0)', ['up']],
    ['time() - node_boot_time_seconds', ['node_boot_time_seconds']],
    ['label_replace(up, "dst", "$1", "instance", "(.*):.*")', ['up']],
    ['rate(foo[${interval}]) > 1e3', ['foo']],
    ['max_over_time(bar[1h:5m])', ['bar']],
    ['label_values(cistern_agent_service_up, service)', ['cistern_agent_service_up']],
    ['label_values(up{job="node"}, server)', ['up']],
    ['label_values(server)', []],
    ['{__name__="up", job="node"}', ['up']],
  ])('%s', (expr, names) => {
    expect(metricNamesInPromQL(expr)).toEqual(names);
  });

  it('reports a misspelt function as a name, so the metric-name check fails loudly', () => {
    expect(metricNamesInPromQL('rat(up[5m])')).toEqual(['rat', 'up']);
  });
});

describe('isExportedMetric', () => {
  it('knows the agent, controller and exporter metrics', () => {
    expect(isExportedMetric('cistern_agent_service_up')).toBe(true);
    expect(isExportedMetric('cistern_failovers_total')).toBe(true);
    expect(isExportedMetric('node_load1')).toBe(true);
    expect(isExportedMetric('up')).toBe(true);
  });

  it('knows histograms only by their series', () => {
    expect(isExportedMetric('cistern_agent_service_probe_duration_seconds_bucket')).toBe(true);
    expect(isExportedMetric('cistern_api_request_duration_seconds_count')).toBe(true);
    expect(isExportedMetric('cistern_agent_service_probe_duration_seconds')).toBe(false);
    expect(isExportedMetric('cistern_agent_service_up_bucket')).toBe(false);
  });

  it('refuses names nobody exports', () => {
    expect(isExportedMetric('node_memory_MemFree_bytes')).toBe(false);
    expect(isExportedMetric('cistern_agent_service_healthy')).toBe(false);
  });
});
