/**
 * The agent's supervisor: runs the pure state machine (src/supervisor/) of each service the
 * controller placed here, and carries out what it asks: probes on 127.0.0.1, start, stop and
 * restart through the service's driver. Every event goes to `onEvent` (the agent sends them to
 * the controller), every number to the metrics sink, and `probeServices()` is what heartbeats say.
 *
 * Leases: a single-writer service runs only while `canRun(definition)` says so. It is asked
 * before every step of the service; whoever grants or revokes a lease calls `refreshLeases()` so
 * a service waiting for one starts at once (and one that lost it stops at once).
 *
 * Status probes: when the agent has a credential for a service with a `status_probe`, it runs
 * that probe after a cheap probe has found the service healthy, at most every
 * `statusIntervalMs` (src/supervisor/status.ts). Its result is reported — in heartbeats, as a
 * `service-status` event when the verdict changes, as a metric — and never restarts anything.
 * A (re)start or stop clears it, and makes the key be read afresh (`forgetCredential`).
 */
import { CisternError } from '../../errors.js';
import { probeVerdict, type ProbeVerdict } from '../../services/probe-verdict.js';
import type { ServiceDefinition } from '../../services/schema.js';
import {
  initialState, policyFrom, report, statusChanged, statusDue, step, wakeAt,
  type Action, type ReportedState, type ServiceEvent, type ServiceState, type SetServicesResult, type StatusReport, type Supervision, type SupervisorEvent,
} from '../../supervisor/index.js';
import type { Logger } from '../../util/logger.js';
import type { DriverKind, ServiceDriver } from './driver.js';
import type { SupervisorMetricsSink } from './metrics.js';
import { runProbe, type ProbeCredential, type ProbeRunner } from './probe-runner.js';
import type { ProcessSpec } from './process-driver.js';
import { runStatusProbe } from './status-probe.js';

export interface DesiredService {
  definition: ServiceDefinition;
  /** Run it here now; false stops it (and clears a `failed`). */
  run: boolean;
  /** Default: the supervisor's `defaultDriver`. */
  driver?: DriverKind;
  /** For the process driver. */
  process?: ProcessSpec;
  supervision?: Supervision;
}

/** One thing that happened to a service, for the controller's event log. */
export interface SupervisorRecord {
  kind: ServiceEvent['kind'] | 'service-status';
  service: string;
  /** Wall-clock time, ms since the epoch. */
  at: number;
  data: Record<string, unknown>;
}

export interface SupervisorOptions {
  defaultDriver: DriverKind;
  /** Makes the driver of a service (one per service). */
  makeDriver: (kind: DriverKind, service: DesiredService) => ServiceDriver;
  /** The lease hook, asked for single-writer services only. Default: always. */
  canRun?: (definition: ServiceDefinition) => boolean;
  onEvent?: (record: SupervisorRecord) => void;
  metrics?: SupervisorMetricsSink;
  logger?: Logger;
  /** The credential for probes that take one (the agent's key store, src/agent/service-keys/). */
  credentialFor?: (definition: ServiceDefinition) => ProbeCredential | undefined | Promise<ProbeCredential | undefined>;
  /** The service was (re)started: a key read before may have changed. */
  forgetCredential?: (service: string) => void;
  /** Test seams. */
  probe?: ProbeRunner;
  /** Monotonic milliseconds; the state machine's `now`. */
  clock?: () => number;
  wallClock?: () => number;
}

interface Entry {
  name: string;
  spec: DesiredService;
  driver: ServiceDriver;
  state: ServiceState;
  timer: NodeJS.Timeout | undefined;
  /** No longer listed: removed once stopped. */
  leaving: boolean;
  /** What the status probe last said, since the service last (re)started. */
  status: StatusReport | undefined;
  /** When the status probe was last tried (monotonic), null since the last (re)start. */
  statusAt: number | null;
  statusRunning: boolean;
  /** Grows at every start, restart and stop: a status answer from an older run is dropped. */
  run: number;
}

const monotonic = () => performance.timeOrigin + performance.now();

export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly probeRunner: ProbeRunner;

  constructor(private readonly options: SupervisorOptions) {
    this.clock = options.clock ?? monotonic;
    this.wallClock = options.wallClock ?? Date.now;
    this.probeRunner = options.probe ?? runProbe;
  }

  /**
   * The services this box should supervise, all of them: one missing from the list is stopped
   * and forgotten. Changes of definition and supervision apply at once, a new process argv at
   * the next (re)start; a service changes driver only while stopped.
   */
  setDesired(services: readonly DesiredService[]): SetServicesResult {
    if (this.closed) throw new CisternError('E_SERVICE_DRIVER', 'the supervisor is shut down');
    for (const service of services) {
      const entry = this.entries.get(service.definition.name);
      const kind = service.driver ?? this.options.defaultDriver;
      if (entry && entry.driver.kind !== kind && (entry.state.up !== false || entry.state.busy !== null)) {
        throw new CisternError('E_BAD_REQUEST', `${entry.name} runs with the ${entry.driver.kind} driver; stop it first (run: false) to change to ${kind}`);
      }
    }
    const listed = new Set<string>();
    for (const service of services) {
      const name = service.definition.name;
      listed.add(name);
      const kind = service.driver ?? this.options.defaultDriver;
      const policy = policyFrom(service.supervision, service.definition.probe.timeout_ms);
      let entry = this.entries.get(name);
      if (!entry) {
        entry = {
          name, spec: service, driver: this.options.makeDriver(kind, service), state: { ...initialState(policy), allowed: this.allowed(service.definition) },
          timer: undefined, leaving: false, status: undefined, statusAt: null, statusRunning: false, run: 0,
        };
        this.entries.set(name, entry);
      } else {
        if (entry.driver.kind !== kind) entry.driver = this.options.makeDriver(kind, service);
        else if (service.process && 'update' in entry.driver && typeof entry.driver.update === 'function') (entry.driver as { update(spec: ProcessSpec): void }).update(service.process);
        entry.spec = service;
        entry.leaving = false;
        this.refreshLease(entry);
      }
      this.dispatch(entry, { type: 'desire', run: service.run, policy });
    }
    for (const entry of this.entries.values()) {
      if (listed.has(entry.name) || entry.leaving) continue;
      entry.leaving = true;
      this.dispatch(entry, { type: 'desire', run: false });
    }
    return {
      services: services.map((s) => {
        const entry = this.entries.get(s.definition.name);
        const now = entry ? report(entry.state) : { state: 'stopped' as const, detail: '' };
        return { name: s.definition.name, run: s.run, driver: entry?.driver.kind ?? this.options.defaultDriver, state: now.state, detail: now.detail };
      }),
    };
  }

  /** What heartbeats carry: each supervised service's state, a line for people, and its status probe's last result. */
  probeServices(): Record<string, { state: ReportedState; detail: string; status?: StatusReport }> {
    const out: Record<string, { state: ReportedState; detail: string; status?: StatusReport }> = {};
    for (const entry of this.entries.values()) {
      const now = report(entry.state);
      out[entry.name] = { state: now.state, detail: now.detail.slice(0, 500), ...(entry.status && { status: entry.status }) };
    }
    return out;
  }

  /** Asks the lease hook again for every service; call it when a lease is granted or lost. */
  refreshLeases(): void {
    for (const entry of this.entries.values()) this.refreshLease(entry);
  }

  /**
   * Stops supervising. Services of the process driver are the agent's children and are stopped
   * with it; systemd services keep running (an agent restart must not restart the media stack).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const entries = [...this.entries.values()];
    for (const entry of entries) clearTimeout(entry.timer);
    await Promise.allSettled(entries.filter((e) => e.driver.kind === 'process').map((e) => e.driver.stop()));
    this.entries.clear();
  }

  private allowed(definition: ServiceDefinition): boolean {
    if (!definition.single_writer || !this.options.canRun) return true;
    try {
      return this.options.canRun(definition);
    } catch (error) {
      this.options.logger?.warn({ service: definition.name, err: (error as Error).message }, 'the lease check failed; not running the service');
      return false;
    }
  }

  private refreshLease(entry: Entry): void {
    const allowed = this.allowed(entry.spec.definition);
    if (allowed !== entry.state.allowed) this.dispatch(entry, { type: 'lease', allowed });
  }

  private dispatch(entry: Entry, event: SupervisorEvent): void {
    if (this.closed || this.entries.get(entry.name) !== entry) return;
    const next = step(entry.state, event, this.clock());
    entry.state = next.state;
    for (const action of next.actions) this.perform(entry, action);
    this.options.metrics?.setState(entry.name, report(entry.state).state);
    if (entry.leaving && entry.state.up === false && entry.state.busy === null) {
      clearTimeout(entry.timer);
      this.entries.delete(entry.name);
      this.options.metrics?.setStatus(entry.name, undefined);
      this.options.metrics?.forgetService(entry.name, { keepCounters: true });
      return;
    }
    this.schedule(entry);
  }

  private schedule(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const at = wakeAt(entry.state);
    if (at === null) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.refreshLease(entry);
      this.dispatch(entry, { type: 'tick' });
    }, Math.max(0, at - this.clock()));
    entry.timer.unref();
  }

  private perform(entry: Entry, action: Action): void {
    switch (action.type) {
      case 'event':
        this.record(entry, action.event);
        return;
      case 'probe':
        void this.probe(entry, action.seq);
        return;
      default: {
        const kind = action.type;
        this.newRun(entry, kind !== 'stop');
        entry.driver[kind]().then(
          () => this.dispatch(entry, { type: 'done', action: kind, ok: true }),
          (error: unknown) => this.dispatch(entry, { type: 'done', action: kind, ok: false, error: error instanceof Error ? error.message : String(error) }),
        );
      }
    }
  }

  /** A start, restart or stop: the status of the run before is gone; a started service's key is read afresh. */
  private newRun(entry: Entry, starting: boolean): void {
    entry.run += 1;
    entry.statusAt = null;
    if (entry.status) {
      entry.status = undefined;
      this.options.metrics?.setStatus(entry.name, undefined);
    }
    if (starting) this.options.forgetCredential?.(entry.name);
  }

  /** The credential for `probe`, when it takes one and the agent has one; a failing look-up is no credential. */
  private async credential(definition: ServiceDefinition, takesOne: boolean): Promise<ProbeCredential | undefined> {
    if (!takesOne || !this.options.credentialFor) return undefined;
    try {
      return await this.options.credentialFor(definition);
    } catch {
      return undefined;
    }
  }

  private async probe(entry: Entry, seq: number): Promise<void> {
    const definition = entry.spec.definition;
    const started = performance.now();
    let verdict: ProbeVerdict;
    try {
      const status = await entry.driver.status();
      if (!status.running) {
        verdict = { verdict: 'unhealthy', detail: `${definition.name}: not running (${status.detail})` };
      } else {
        const credential = await this.credential(definition, definition.probe.kind === 'http' && definition.probe.auth !== undefined);
        const answer = await this.probeRunner(definition.probe, { port: definition.port, timeoutMs: entry.state.policy.timeoutMs, ...(credential && { credential }) });
        verdict = probeVerdict(definition, answer, { ...(status.uptimeSeconds !== undefined && { uptimeSeconds: status.uptimeSeconds }), credential: credential !== undefined });
      }
    } catch (error) {
      verdict = { verdict: 'unhealthy', detail: `${definition.name}: the probe itself failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    this.options.metrics?.observeProbe(entry.name, (performance.now() - started) / 1000);
    this.dispatch(entry, { type: 'probed', seq, verdict: verdict.verdict, detail: verdict.detail });
    void this.statusProbe(entry);
  }

  /** Runs the status probe when it is due (status.ts) and the agent has a credential; reports what it says. */
  private async statusProbe(entry: Entry): Promise<void> {
    const definition = entry.spec.definition;
    const probe = definition.status_probe;
    if (!probe || this.closed || this.entries.get(entry.name) !== entry) return;
    const now = this.clock();
    if (!statusDue({ state: report(entry.state).state, lastAt: entry.statusAt, intervalMs: entry.state.policy.statusIntervalMs, running: entry.statusRunning, now })) return;
    entry.statusRunning = true;
    entry.statusAt = now;
    const run = entry.run;
    try {
      const credential = await this.credential(definition, true);
      if (!credential) return;
      const result = await runStatusProbe({
        definition: { ...definition, status_probe: probe }, credential, runner: this.probeRunner, timeoutMs: entry.state.policy.timeoutMs, now: this.wallClock,
      });
      if (this.closed || this.entries.get(entry.name) !== entry || entry.run !== run) return;
      const before = entry.status;
      entry.status = result;
      this.options.metrics?.setStatus(entry.name, result.verdict);
      if (statusChanged(before, result)) this.recordStatus(entry, before, result);
    } finally {
      entry.statusRunning = false;
    }
  }

  private recordStatus(entry: Entry, before: StatusReport | undefined, after: StatusReport): void {
    const data = { from: before?.verdict ?? 'unknown', to: after.verdict, detail: after.detail, ...(after.version !== undefined && { version: after.version }) };
    const level = after.verdict === 'healthy' ? 'info' : 'warn';
    this.options.logger?.[level]({ service: entry.name, ...data }, 'service-status');
    try {
      this.options.onEvent?.({ kind: 'service-status', service: entry.name, at: this.wallClock(), data });
    } catch (error) {
      this.options.logger?.warn({ service: entry.name, err: (error as Error).message }, 'could not pass on a supervision event');
    }
  }

  private record(entry: Entry, event: ServiceEvent): void {
    const { kind, ...data } = event;
    if (kind === 'service-restart') this.options.metrics?.recordRestart(entry.name);
    const level = kind === 'service-failed' || kind === 'service-action-failed' ? 'warn' : 'info';
    this.options.logger?.[level]({ service: entry.name, driver: entry.driver.kind, ...data }, kind);
    try {
      this.options.onEvent?.({ kind, service: entry.name, at: this.wallClock(), data: { driver: entry.driver.kind, ...data } });
    } catch (error) {
      this.options.logger?.warn({ service: entry.name, err: (error as Error).message }, 'could not pass on a supervision event');
    }
  }
}
