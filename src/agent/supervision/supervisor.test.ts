import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../services/catalog.js';
import type { ProbeAnswer } from '../../services/probe-verdict.js';
import type { ServiceDefinition } from '../../services/schema.js';
import type { Supervision } from '../../supervisor/index.js';
import type { DriverKind } from './driver.js';
import { setServicesCommand } from './index.js';
import { SupervisorMetrics } from './metrics.js';
import { ProcessDriver } from './process-driver.js';
import { FakeDriver, sleep, until } from './test-support.js';
import { Supervisor, type DesiredService, type SupervisorRecord } from './supervisor.js';


const FAST: Supervision = {
  interval_ms: 100, timeout_ms: 50, failure_threshold: 2, success_threshold: 1,
  backoff_initial_ms: 10, backoff_max_ms: 40, restart_budget: { restarts: 2, window_ms: 60_000 },
};

const catalog = (name: string): ServiceDefinition => {
  const found = CATALOG.find((s) => s.name === name);
  if (!found) throw new Error(name);
  return found;
};

const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

function harness(options: { canRun?: (d: ServiceDefinition) => boolean; defaultDriver?: DriverKind } = {}) {
  const drivers = new Map<string, FakeDriver>();
  const events: SupervisorRecord[] = [];
  const answers = new Map<string, ProbeAnswer>();
  const metrics = new SupervisorMetrics();
  const supervisor = new Supervisor({
    defaultDriver: options.defaultDriver ?? 'systemd',
    makeDriver: (kind, service) => {
      const d = new FakeDriver(kind);
      drivers.set(service.definition.name, d);
      return d;
    },
    probe: async (probe) => answers.get(probe.kind === 'http' ? probe.path : probe.kind) ?? { kind: 'failed', reason: 'refused' },
    onEvent: (e) => events.push(e),
    metrics,
    ...(options.canRun && { canRun: options.canRun }),
  });
  running.push(supervisor);
  const driver = (name: string) => {
    const d = drivers.get(name);
    if (!d) throw new Error(`no driver for ${name}`);
    return d;
  };
  const state = (name: string) => supervisor.probeServices()[name]?.state;
  return { supervisor, drivers, driver, events, answers, metrics, state, kinds: () => events.map((e) => e.kind) };
}

const jellyfin = (extra: Partial<DesiredService> = {}): DesiredService => ({ definition: catalog('jellyfin'), run: true, supervision: FAST, ...extra });
const healthy: ProbeAnswer = { kind: 'http', status: 200, body: 'Healthy' };


describe('the supervisor', () => {
  it('starts a wanted service, probes it, and reports it healthy, with an event for each change', async () => {
    const h = harness();
    h.answers.set('/health', healthy);
    const result = h.supervisor.setDesired([jellyfin()]);
    expect(result.services).toEqual([{ name: 'jellyfin', run: true, driver: 'systemd', state: 'starting', detail: 'starting' }]);
    await until('healthy', () => h.state('jellyfin') === 'healthy');
    expect(h.driver('jellyfin').calls).toEqual(['start']);
    expect(h.kinds()).toEqual(['service-state', 'service-started', 'service-state']);
    expect(h.events[2]).toMatchObject({ service: 'jellyfin', data: { driver: 'systemd', from: 'starting', to: 'healthy', detail: 'jellyfin: HTTP 200 "Healthy"' } });
    expect(h.metrics.snapshot()).toMatchObject([{ service: 'jellyfin', state: 'healthy', up: 1, restartsTotal: 0 }]);
    expect(h.metrics.snapshot()[0]?.probes.count).toBeGreaterThan(0);
  });

  it('restarts a service that stops answering, with backoff, then marks it failed after its budget, stops it and leaves it', async () => {
    const h = harness();
    h.answers.set('/health', { kind: 'http', status: 503, body: 'Unhealthy' });
    h.supervisor.setDesired([jellyfin()]);
    await until('failed', () => h.state('jellyfin') === 'failed');
    await sleep(400);
    expect(h.driver('jellyfin').calls).toEqual(['start', 'restart', 'restart', 'stop']);
    const restarts = h.events.filter((e) => e.kind === 'service-restart').map((e) => e.data);
    expect(restarts).toMatchObject([{ attempt: 1, delayMs: 10, restartsInWindow: 1 }, { attempt: 2, delayMs: 20, restartsInWindow: 2 }]);
    expect(h.events.find((e) => e.kind === 'service-failed')?.data).toMatchObject({ restarts: 2, windowMs: 60_000, reason: expect.stringContaining('Unhealthy') });
    expect(h.supervisor.probeServices().jellyfin?.detail).toMatch(/^restart budget spent \(2 in 60 s\): Jellyfin says "Unhealthy"/);
    expect(h.metrics.snapshot()).toMatchObject([{ state: 'failed', up: 0, restartsTotal: 2 }]);
    // The controller's word, not time, brings it back: run false, then true.
    h.supervisor.setDesired([jellyfin({ run: false })]);
    h.answers.set('/health', healthy);
    h.supervisor.setDesired([jellyfin()]);
    await until('healthy again', () => h.state('jellyfin') === 'healthy');
  });

  it('finds a dead process through its driver, without waiting for the start grace', async () => {
    const h = harness();
    h.answers.set('/health', healthy);
    h.supervisor.setDesired([jellyfin({ supervision: { ...FAST, restart_budget: { restarts: 5, window_ms: 60_000 } } })]);
    await until('healthy', () => h.state('jellyfin') === 'healthy');
    h.driver('jellyfin').crash();
    await until('restarted', () => h.driver('jellyfin').calls.includes('restart'));
    expect(h.events.find((e) => e.kind === 'service-state' && e.data.to === 'unhealthy')?.data.detail).toBe('jellyfin: not running (exited with code 1); restart in 0 s');
    await until('healthy again', () => h.state('jellyfin') === 'healthy');
  });

  it('never restarts Jellyfin while it says "Degraded", nor a misconfigured Transmission', async () => {
    const h = harness();
    h.answers.set('/health', { kind: 'http', status: 200, body: 'Degraded' });
    h.answers.set('/transmission/rpc', { kind: 'http', status: 403, body: '<h1>403: Forbidden</h1>' });
    h.supervisor.setDesired([jellyfin(), { definition: catalog('transmission'), run: true, supervision: FAST }]);
    await until('misconfigured', () => h.state('transmission') === 'misconfigured');
    await sleep(500);
    expect(h.state('jellyfin')).toBe('starting');
    expect(h.supervisor.probeServices().transmission?.detail).toMatch(/^Transmission refused the agent's address/);
    expect(h.driver('jellyfin').calls).toEqual(['start']);
    expect(h.driver('transmission').calls).toEqual(['start']);
  });

  it('runs a single-writer service only while the lease hook allows it', async () => {
    let lease = false;
    const h = harness({ canRun: () => lease });
    h.answers.set('/health', healthy);
    h.answers.set('tcp', { kind: 'tcp' });
    const shared: DesiredService = { definition: { ...catalog('jellyfin'), name: 'web', single_writer: false, probe: { kind: 'tcp' }, port: 1 }, run: true, supervision: FAST };
    h.supervisor.setDesired([jellyfin(), shared]);
    await until('web healthy', () => h.state('web') === 'healthy');
    await sleep(200);
    expect(h.supervisor.probeServices().jellyfin).toEqual({ state: 'stopped', detail: 'waiting for the lease: another box may hold it' });
    expect(h.driver('jellyfin').calls).toEqual(['stop']); // made sure it is not running
    lease = true;
    h.supervisor.refreshLeases();
    await until('jellyfin healthy', () => h.state('jellyfin') === 'healthy');
    lease = false;
    h.supervisor.refreshLeases();
    await until('jellyfin stopped', () => h.driver('jellyfin').calls.length === 3);
    expect(h.driver('jellyfin').calls).toEqual(['stop', 'start', 'stop']);
    expect(h.events.find((e) => e.kind === 'service-stopped')?.data.reason).toBe('lease not held');
  });

  it('stops a service with run false, and stops and forgets one no longer listed', async () => {
    const h = harness();
    h.answers.set('/health', healthy);
    h.answers.set('/transmission/rpc', { kind: 'http', status: 409, headers: { 'x-transmission-session-id': 'x' } });
    const transmission: DesiredService = { definition: catalog('transmission'), run: true, supervision: FAST };
    h.supervisor.setDesired([jellyfin(), transmission]);
    await until('both healthy', () => h.state('jellyfin') === 'healthy' && h.state('transmission') === 'healthy');
    h.supervisor.setDesired([jellyfin({ run: false })]);
    await until('transmission forgotten', () => h.state('transmission') === undefined);
    expect(h.supervisor.probeServices()).toEqual({ jellyfin: { state: 'stopped', detail: 'not wanted on this box' } });
    expect(h.driver('jellyfin').calls).toEqual(['start', 'stop']);
    expect(h.driver('transmission').calls).toEqual(['start', 'stop']);
    expect(h.metrics.snapshot().map((m) => [m.service, m.state])).toEqual([['jellyfin', 'stopped'], ['transmission', undefined]]);
  });

  it('changes a service\'s driver only while it is stopped', async () => {
    const h = harness();
    h.supervisor.setDesired([jellyfin()]);
    expect(() => h.supervisor.setDesired([jellyfin({ driver: 'process', process: { argv: ['jellyfin'] } })])).toThrow(expect.objectContaining({
      code: 'E_BAD_REQUEST', message: 'jellyfin runs with the systemd driver; stop it first (run: false) to change to process',
    }));
    h.supervisor.setDesired([jellyfin({ run: false })]);
    await until('stopped', () => h.driver('jellyfin').calls.at(-1) === 'stop');
    h.supervisor.setDesired([jellyfin({ driver: 'process', process: { argv: ['jellyfin'] } })]);
    await until('started by the new driver', () => h.driver('jellyfin').kind === 'process' && h.driver('jellyfin').calls.includes('start'));
  });
});

describe('the set-services command', () => {
  const run = (args: unknown, defaultDriver: DriverKind = 'systemd') => setServicesCommand(harness({ defaultDriver }).supervisor, defaultDriver)(args as Record<string, unknown>);

  it('refuses malformed arguments with E_BAD_REQUEST naming the field, changing nothing', async () => {
    await expect(run({})).rejects.toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringMatching(/^set-services: args\.services: /) });
    await expect(run({ services: [{ name: 'jellyfin', definition: { ...catalog('jellyfin'), name: 'sonarr' }, run: true }] })).rejects.toMatchObject({
      code: 'E_BAD_REQUEST', message: 'set-services: args.services.0.definition.name: is "sonarr", not the entry\'s name "jellyfin"',
    });
    await expect(run({ services: [{ name: 'jellyfin', definition: catalog('jellyfin'), run: true, driver: 'process' }] })).rejects.toMatchObject({
      message: 'set-services: args.services.0.process: the process driver needs process.argv',
    });
    await expect(run({ services: [{ name: 'jellyfin', definition: catalog('jellyfin'), run: true }] }, 'process')).rejects.toMatchObject({
      message: 'set-services: args.services.0.process: jellyfin runs with the process driver (this agent\'s default), which needs process.argv',
    });
    await expect(run({ services: [{ name: 'jellyfin', definition: catalog('jellyfin'), run: true, supervision: { interval_ms: 5 } }] })).rejects.toMatchObject({
      message: expect.stringMatching(/^set-services: args\.services\.0\.supervision\.interval_ms: /),
    });
    const twice = { name: 'jellyfin', definition: catalog('jellyfin'), run: false };
    await expect(run({ services: [twice, twice] })).rejects.toMatchObject({ message: 'set-services: args.services.1.name: "jellyfin" is listed twice' });
  });

  it('accepts a resolved service (source and placement included) and answers with each state', async () => {
    const resolved = { ...catalog('sonarr'), source: 'catalog', placement: { primary: 'h2' } };
    expect(await run({ services: [{ name: 'sonarr', definition: resolved, run: false }] })).toEqual({
      services: [{ name: 'sonarr', run: false, driver: 'systemd', state: 'stopped', detail: 'not wanted on this box' }],
    });
  });
});

describe('the supervisor with a real process and real probes', () => {
  it('restarts a killed HTTP service and sees it healthy again', { timeout: 15_000 }, async () => {
    const port = await freePort();
    const server = `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'text/plain' }); s.end('Healthy'); }).listen(${port}, '127.0.0.1');`;
    const events: SupervisorRecord[] = [];
    let process_: ProcessDriver | undefined;
    const supervisor = new Supervisor({
      defaultDriver: 'process',
      makeDriver: (_kind, service) => (process_ = new ProcessDriver({ name: service.definition.name, argv: service.process?.argv ?? [], stopTimeoutMs: 1_000 })),
      onEvent: (e) => events.push(e),
    });
    running.push(supervisor);
    const definition: ServiceDefinition = { ...catalog('jellyfin'), name: 'web', port, start_grace_s: 5 };
    supervisor.setDesired([{ definition, run: true, process: { argv: [process.execPath, '-e', server] }, supervision: { ...FAST, interval_ms: 100, timeout_ms: 500 } }]);
    await until('healthy', () => supervisor.probeServices().web?.state === 'healthy', 5_000);
    const first = process_?.pid ?? 0;
    process.kill(first, 'SIGKILL');
    await until('restarted', () => events.some((e) => e.kind === 'service-restart'), 5_000);
    await until('healthy again', () => supervisor.probeServices().web?.state === 'healthy' && process_?.pid !== first, 5_000);
    expect(events.map((e) => (e.kind === 'service-state' ? `${String(e.data.from)}>${String(e.data.to)}` : e.kind))).toEqual([
      'stopped>starting', 'service-started', 'starting>healthy', 'healthy>unhealthy', 'service-restart', 'unhealthy>starting', 'starting>healthy',
    ]);
    expect(events.find((e) => e.kind === 'service-state' && e.data.to === 'unhealthy')?.data.detail).toMatch(/^web: not running \(killed by SIGKILL\)/);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
