import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../services/catalog.js';
import type { ProbeAnswer } from '../../services/probe-verdict.js';
import type { Probe, ServiceDefinition, StatusProbe } from '../../services/schema.js';
import type { Supervision } from '../../supervisor/index.js';
import { SupervisorMetrics } from './metrics.js';
import type { ProbeCredential, ProbeTarget } from './probe-runner.js';
import { redact, runStatusProbe } from './status-probe.js';
import { FakeDriver, sleep, until } from './test-support.js';
import { Supervisor, type SupervisorRecord } from './supervisor.js';


const FAST: Supervision = { interval_ms: 50, timeout_ms: 50, failure_threshold: 1, backoff_initial_ms: 10, status_interval_ms: 200 };
const sonarr = CATALOG.find((s) => s.name === 'sonarr') as ServiceDefinition;
const KEY = 'right-key-0123456789';
const running: Supervisor[] = [];
afterEach(async () => { await Promise.all(running.splice(0).map((s) => s.close())); });


/** Sonarr as a fake: /ping answers as `ping` says; /api/v3/system/status checks X-Api-Key like the real one. */
function harness(credential: () => ProbeCredential | undefined) {
  let driver: FakeDriver | undefined;
  const events: SupervisorRecord[] = [];
  const metrics = new SupervisorMetrics();
  const statusCalls: ProbeTarget[] = [];
  const state = { ping: { kind: 'http', status: 200, body: '{"status":"OK"}' } as ProbeAnswer, forgotten: 0 };
  const supervisor = new Supervisor({
    defaultDriver: 'systemd',
    makeDriver: (kind) => (driver = new FakeDriver(kind)),
    probe: async (probe: Probe, target: ProbeTarget): Promise<ProbeAnswer> => {
      if (probe.kind !== 'http' || probe.path === '/ping') return state.ping;
      statusCalls.push(target);
      if (target.credential?.key !== KEY) return { kind: 'http', status: 401, body: '' };
      return { kind: 'http', status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"appName":"Sonarr","version":"4.0.15.2941"}' };
    },
    credentialFor: () => credential(),
    forgetCredential: () => { state.forgotten += 1; },
    onEvent: (e) => events.push(e),
    metrics,
  });
  running.push(supervisor);
  supervisor.setDesired([{ definition: sonarr, run: true, supervision: FAST }]);
  const report = () => supervisor.probeServices().sonarr;
  return { supervisor, events, metrics, statusCalls, state, report, driver: () => driver as FakeDriver };
}

describe('the status probe', () => {
  it('runs with the key while the service is healthy, reports the version, and not more often than its interval', async () => {
    const h = harness(() => ({ key: KEY }));
    const status = await until('a status', () => h.report()?.status);
    expect(status).toEqual({ verdict: 'healthy', detail: expect.stringContaining('HTTP 200') as string, checkedAt: expect.any(Number) as number, version: '4.0.15.2941' });
    expect(h.statusCalls[0]?.credential).toEqual({ key: KEY });
    expect(h.metrics.snapshot()[0]?.status).toBe('healthy');
    expect(h.events.filter((e) => e.kind === 'service-status')).toEqual([expect.objectContaining({ service: 'sonarr', data: expect.objectContaining({ from: 'unknown', to: 'healthy', version: '4.0.15.2941' }) as object })]);
    expect(h.state.forgotten).toBeGreaterThan(0); // the start made the key be read afresh
    await sleep(500);
    // About 10 cheap probes in 500 ms, and the status probe at most every 200 ms.
    expect(h.statusCalls.length).toBeGreaterThanOrEqual(2);
    expect(h.statusCalls.length).toBeLessThanOrEqual(4);
  });

  it('reports a refused key as misconfigured, and never restarts the service for it', async () => {
    const h = harness(() => ({ key: 'wrong-key-9876543210' }));
    const status = await until('a status', () => h.report()?.status);
    expect(status.verdict).toBe('misconfigured');
    expect(status.detail).toBe('sonarr refused the agent\'s key or credential [HTTP 401]; check the key in the agent\'s --service-keys file or the app\'s config file');
    await sleep(400);
    expect(h.report()?.state).toBe('healthy');
    expect(h.driver().calls).toEqual(['start']);
    expect(h.events.map((e) => e.kind)).not.toContain('service-restart');
    expect(JSON.stringify(h.events)).not.toContain('wrong-key-9876543210');
  });

  it('does not run without a key, nor while the cheap probe is not healthy', async () => {
    const none = harness(() => undefined);
    await until('healthy', () => none.report()?.state === 'healthy');
    await sleep(300);
    expect(none.statusCalls).toEqual([]);
    expect(none.report()?.status).toBeUndefined();

    const h = harness(() => ({ key: KEY }));
    h.state.ping = { kind: 'http', status: 503, body: 'Sonarr is starting up, please try again later' };
    await until('starting', () => h.report()?.state === 'starting');
    await sleep(300);
    expect(h.statusCalls).toEqual([]);
  });
});

describe('a status answer that echoes the key', () => {
  it('is reported without it', async () => {
    const secret = 'echoed-key-0123456';
    const report = await runStatusProbe({
      definition: { ...sonarr, status_probe: sonarr.status_probe as StatusProbe },
      credential: { key: secret },
      runner: async () => ({ kind: 'http', status: 500, body: secret }),
      timeoutMs: 100,
      now: () => 42,
    });
    expect(report).toEqual({ verdict: 'unhealthy', detail: 'sonarr: unexpected answer [HTTP 500 "[redacted]"]', checkedAt: 42 });
    expect(redact(`a ${encodeURIComponent('k/ey+=1234')} b`, { key: 'k/ey+=1234' })).toBe('a [redacted] b');
  });
});
