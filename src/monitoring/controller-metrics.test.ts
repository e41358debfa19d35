import { describe, expect, it } from 'vitest';
import { createControllerMetrics, type ControllerMetricsSource } from './controller-metrics.js';
import { CONTROLLER_METRICS } from './metric-names.js';

const source = (over: Partial<ControllerMetricsSource> = {}): ControllerMetricsSource => ({
  healths: () => ['healthy', 'healthy', 'down', 'unknown'],
  lastHeartbeats: () => [{ server: 'eden', at: 95_000 }, { server: 'rivers', at: 40_000 }],
  pending: () => 2,
  certificates: () => [{ name: 'controller', notAfter: 1_900_000_000_000 }],
  ...over,
});

describe('controller metrics', () => {
  it('exports every name in CONTROLLER_METRICS', async () => {
    const metrics = createControllerMetrics({ source: source(), processMetrics: false });
    metrics.recordFailover('jellyfin', 'server-down');
    metrics.setBackupSuccess('eden', 'jellyfin', 1_000);
    const names = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    for (const name of Object.values(CONTROLLER_METRICS)) expect(names.has(name), name).toBe(true);
  });

  it('reads the fleet at scrape time', async () => {
    const metrics = createControllerMetrics({ source: source(), processMetrics: false, clock: () => 100_000 });
    metrics.observeHeartbeat(99_950, 100_000);
    metrics.observeHeartbeat(100_500, 100_000); // the agent's clock runs ahead: counted as 0
    metrics.recordRegistration('provisioning');
    metrics.observeRequest('GET', '/v1/servers/:name', 200, 0.004);
    const { body } = await metrics.scrape();
    expect(body).toContain('cistern_servers{health="healthy"} 2');
    expect(body).toContain('cistern_servers{health="suspect"} 0');
    expect(body).toContain('cistern_server_heartbeat_age_seconds{server="eden"} 5');
    expect(body).toContain('cistern_server_heartbeat_age_seconds{server="rivers"} 60');
    expect(body).toContain('cistern_heartbeat_latency_seconds_count 2');
    expect(body).toContain('cistern_heartbeat_latency_seconds_bucket{le="0.005"} 1');
    expect(body).toContain('cistern_registrations_total{via="provisioning"} 1');
    expect(body).toContain('cistern_registrations_total{via="approval"} 0');
    expect(body).toContain('cistern_discovered_pending 2');
    expect(body).toContain('cistern_certificate_expiry_timestamp_seconds{name="controller"} 1900000000');
    expect(body).toContain('cistern_api_request_duration_seconds_count{method="GET",route="/v1/servers/:name",status="200"} 1');
  });

  it('forgets servers that are gone', async () => {
    let beats = [{ server: 'eden', at: 0 }];
    const metrics = createControllerMetrics({ source: source({ lastHeartbeats: () => beats }), processMetrics: false, clock: () => 1_000 });
    expect((await metrics.scrape()).body).toContain('server="eden"');
    beats = [];
    expect((await metrics.scrape()).body).not.toContain('server="eden"');
  });
});
