import { describe, expect, it } from 'vitest';
import { createAgentMetrics } from './agent-metrics.js';
import type { SupervisorMetricsSink } from '../agent/supervision/metrics.js';
import { AGENT_METRICS } from './metric-names.js';

async function samples(metrics: ReturnType<typeof createAgentMetrics>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      const name = (v as { metricName?: string }).metricName ?? metric.name;
      const labels = Object.entries(v.labels).map(([k, l]) => `${k}="${l}"`).join(',');
      out.set(labels ? `${name}{${labels}}` : name, v.value);
    }
  }
  return out;
}

describe('agent metrics', () => {
  it('exports every name in AGENT_METRICS, histograms as histograms', async () => {
    const metrics = createAgentMetrics({ processMetrics: false });
    const types = new Map((await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
    for (const name of Object.values(AGENT_METRICS)) expect(types.has(name), name).toBe(true);
    expect(types.get(AGENT_METRICS.probeDuration)).toBe('histogram');
    expect(types.get(AGENT_METRICS.heartbeatRtt)).toBe('histogram');
    expect(types.get(AGENT_METRICS.restarts)).toBe('counter');
  });

  it('keeps a service\'s verdict as up and as a state set, and times its probes', async () => {
    const metrics = createAgentMetrics({ processMetrics: false });
    metrics.recordProbe('jellyfin', 'healthy', 0.02);
    metrics.recordProbe('sonarr', 'unhealthy', 5);
    const s = await samples(metrics);
    expect(s.get('cistern_agent_service_up{service="jellyfin"}')).toBe(1);
    expect(s.get('cistern_agent_service_up{service="sonarr"}')).toBe(0);
    expect(s.get('cistern_agent_service_state{service="sonarr",state="unhealthy"}')).toBe(1);
    expect(s.get('cistern_agent_service_state{service="sonarr",state="healthy"}')).toBe(0);
    expect(s.get('cistern_agent_service_probe_duration_seconds_count{service="sonarr"}')).toBe(1);
    expect(s.get('cistern_agent_service_probe_duration_seconds_sum{service="jellyfin"}')).toBeCloseTo(0.02);
  });

  it('counts restarts from 0, so the first one is seen by increase()', async () => {
    const metrics = createAgentMetrics({ processMetrics: false });
    metrics.recordProbe('sonarr', 'starting');
    expect((await samples(metrics)).get('cistern_agent_service_restarts_total{service="sonarr"}')).toBe(0);
    metrics.recordRestart('sonarr');
    metrics.recordRestart('sonarr');
    metrics.setLeaseEpoch('sonarr', 7);
    const s = await samples(metrics);
    expect(s.get('cistern_agent_service_restarts_total{service="sonarr"}')).toBe(2);
    expect(s.get('cistern_agent_service_lease_epoch{service="sonarr"}')).toBe(7);
  });

  it('drops a service that left the box; "unknown" sets no state', async () => {
    const metrics = createAgentMetrics({ processMetrics: false });
    metrics.recordProbe('radarr', 'failed', 1);
    metrics.recordRestart('radarr');
    metrics.forgetService('radarr');
    metrics.recordProbe('bazarr', 'unknown');
    const s = await samples(metrics);
    expect([...s.keys()].filter((k) => k.includes('radarr'))).toEqual([]);
    expect([...s].filter(([k, v]) => k.startsWith('cistern_agent_service_state{service="bazarr"') && v === 1)).toEqual([]);
  });

  it('is the supervisor\'s metrics sink as it is; a service it stops supervising keeps its counters', async () => {
    const metrics = createAgentMetrics({ processMetrics: false });
    const sink: SupervisorMetricsSink = metrics;
    sink.setState('jellyfin', 'healthy');
    sink.observeProbe('jellyfin', 0.5);
    sink.recordRestart('jellyfin');
    sink.forgetService('jellyfin', { keepCounters: true });
    const s = await samples(metrics);
    expect(s.get('cistern_agent_service_restarts_total{service="jellyfin"}')).toBe(1);
    expect(s.get('cistern_agent_service_probe_duration_seconds_count{service="jellyfin"}')).toBe(1);
    expect(s.has('cistern_agent_service_up{service="jellyfin"}')).toBe(false);
  });

  it('reads the connection at scrape time and ages the last heartbeat', async () => {
    let now = 1_000_000;
    let open = false;
    const metrics = createAgentMetrics({ processMetrics: false, clock: () => now });
    metrics.setConnectionState(() => open);
    metrics.setInfo({ version: '0.1.0', profile: 'raspberry-pi' });
    expect((await samples(metrics)).get('cistern_agent_controller_connected')).toBe(0);
    open = true;
    metrics.observeHeartbeat(40);
    now += 12_000;
    const s = await samples(metrics);
    expect(s.get('cistern_agent_controller_connected')).toBe(1);
    expect(s.get('cistern_agent_heartbeat_age_seconds')).toBe(12);
    expect(s.get('cistern_agent_heartbeat_rtt_seconds_count')).toBe(1);
    expect(s.get('cistern_agent_info{version="0.1.0",profile="raspberry-pi"}')).toBe(1);
  });

  it('exports the process\'s own figures in the exposition format', async () => {
    const { contentType, body } = await createAgentMetrics().scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(body).toContain('# TYPE cistern_agent_service_up gauge');
  });
});
