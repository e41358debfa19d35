/**
 * The agent's metrics (AGENT_METRICS in metric-names.ts), served at https://AGENT:9810/metrics.
 *
 * The service supervisor reports what it sees through `recordProbe`, `recordRestart`,
 * `setStatus`, `setLeaseEpoch` and `forgetService`; the agent's daemon wires in the controller connection
 * (`observeHeartbeat`, `setConnectionState`) and its version and hardware profile (`setInfo`).
 * One agent runs per process, so the module-level functions act on one process-wide set
 * (`agentMetrics()`); tests that want their own make one with `createAgentMetrics()`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERDICTS, type Verdict } from '../services/schema.js';
import { AGENT_METRICS } from './metric-names.js';

/** A probe verdict as the supervisor reports it (the `state` label of cistern_agent_service_state). */
export const SERVICE_STATES = ['healthy', 'starting', 'unhealthy', 'misconfigured', 'failed', 'stopped'] as const;
/** `unknown` (no verdict yet) sets every state of the set to 0. */
export type ServiceState = (typeof SERVICE_STATES)[number] | 'unknown';

/** Probes answer in milliseconds, or hang until their timeout (seconds). */
const PROBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Heartbeat round trips: loopback to a slow mobile link. */
const RTT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface AgentMetrics {
  readonly registry: Registry;
  /** The supervisor probed `service`: its verdict, and how long the probe took (omit when no probe ran, e.g. stopped). */
  recordProbe(service: string, state: ServiceState, seconds?: number): void;
  /** The service's verdict changed (or was first seen), without a probe to time. */
  setState(service: string, state: ServiceState): void;
  /** A probe of `service` took `seconds`. */
  observeProbe(service: string, seconds: number): void;
  /** The supervisor restarted `service`. */
  recordRestart(service: string): void;
  /** The status probe's last verdict for `service`; undefined removes it (no key, or restarted). */
  setStatus(service: string, verdict: Verdict | undefined): void;
  /** The lease epoch this agent holds for a single-writer service; 0 when it holds none. */
  setLeaseEpoch(service: string, epoch: number): void;
  /** `service` no longer belongs on this box: its series disappear (with `keepCounters`, restarts and probe times stay). */
  forgetService(service: string, options?: { keepCounters?: boolean }): void;
  /** A heartbeat was acknowledged after `rttMs`. */
  observeHeartbeat(rttMs: number, at?: number): void;
  /** How to read, at scrape time, whether the controller connection is open. */
  setConnectionState(connected: () => boolean): void;
  setInfo(info: { version: string; profile: string }): void;
  /** The exposition text and its content type, for a scrape. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface AgentMetricsOptions {
  /** Also export the process's own figures (process_*, nodejs_*). Default true. */
  processMetrics?: boolean;
  clock?: () => number;
}

export function createAgentMetrics(options: AgentMetricsOptions = {}): AgentMetrics {
  const clock = options.clock ?? Date.now;
  const registry = new Registry();
  const labelNames = ['service'] as const;
  const up = new Gauge({ name: AGENT_METRICS.serviceUp, help: '1 when the service\'s last probe verdict was healthy, else 0.', labelNames, registers: [registry] });
  const state = new Gauge({ name: AGENT_METRICS.serviceState, help: 'The service\'s probe verdict as a state set: 1 for the current state.', labelNames: ['service', 'state'] as const, registers: [registry] });
  const probe = new Histogram({ name: AGENT_METRICS.probeDuration, help: 'Duration of service probes in seconds.', labelNames, buckets: PROBE_BUCKETS, registers: [registry] });
  const restarts = new Counter({ name: AGENT_METRICS.restarts, help: 'Restarts of the service made by the agent.', labelNames, registers: [registry] });
  const status = new Gauge({ name: AGENT_METRICS.serviceStatus, help: 'The service\'s authenticated status probe verdict as a state set: 1 for the current one.', labelNames: ['service', 'verdict'] as const, registers: [registry] });
  const lease = new Gauge({ name: AGENT_METRICS.leaseEpoch, help: 'The lease epoch the agent holds for a single-writer service (0: none).', labelNames, registers: [registry] });
  let connected: () => boolean = () => false;
  let lastAck: number | undefined;
  new Gauge({
    name: AGENT_METRICS.connected, help: '1 while the agent\'s connection to the controller is open.', registers: [registry],
    collect() { this.set(connected() ? 1 : 0); },
  });
  const rtt = new Histogram({ name: AGENT_METRICS.heartbeatRtt, help: 'Heartbeat round trips to the controller in seconds.', buckets: RTT_BUCKETS, registers: [registry] });
  const started = clock();
  new Gauge({
    name: AGENT_METRICS.heartbeatAge, help: 'Seconds since the last acknowledged heartbeat (since the agent started, before the first).', registers: [registry],
    collect() { this.set(Math.max(0, (clock() - (lastAck ?? started)) / 1000)); },
  });
  const info = new Gauge({ name: AGENT_METRICS.info, help: 'Always 1; labels: the agent\'s version and hardware profile.', labelNames: ['version', 'profile'] as const, registers: [registry] });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const known = new Set<string>();
  // A counter that starts at its first increment loses that increment to rate() and increase();
  // created at 0 with the service's first report, every restart counts.
  const touch = (service: string) => {
    if (known.has(service)) return;
    known.add(service);
    restarts.labels(service).inc(0);
  };

  const setState = (service: string, verdict: ServiceState) => {
    touch(service);
    up.labels(service).set(verdict === 'healthy' ? 1 : 0);
    for (const s of SERVICE_STATES) state.labels(service, s).set(s === verdict ? 1 : 0);
  };
  const observeProbe = (service: string, seconds: number) => {
    touch(service);
    if (Number.isFinite(seconds) && seconds >= 0) probe.labels(service).observe(seconds);
  };

  return {
    registry,
    recordProbe(service, verdict, seconds) {
      setState(service, verdict);
      if (seconds !== undefined) observeProbe(service, seconds);
    },
    setState,
    observeProbe,
    recordRestart(service) {
      touch(service);
      restarts.labels(service).inc();
    },
    setStatus(service, verdict) {
      for (const v of VERDICTS) {
        if (verdict === undefined) status.remove(service, v);
        else status.labels(service, v).set(v === verdict ? 1 : 0);
      }
    },
    setLeaseEpoch(service, epoch) {
      touch(service);
      lease.labels(service).set(epoch);
    },
    forgetService(service, options = {}) {
      for (const metric of [up, lease]) metric.remove(service);
      for (const s of SERVICE_STATES) state.remove(service, s);
      for (const v of VERDICTS) status.remove(service, v);
      if (options.keepCounters) return;
      known.delete(service);
      probe.remove(service);
      restarts.remove(service);
    },
    observeHeartbeat(rttMs, at = clock()) {
      lastAck = at;
      rtt.observe(Math.max(0, rttMs) / 1000);
    },
    setConnectionState(read) {
      connected = read;
    },
    setInfo(value) {
      info.reset();
      info.labels(value.version, value.profile).set(1);
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

let shared: AgentMetrics | undefined;

/** The process-wide agent metrics, made on first use. */
export function agentMetrics(): AgentMetrics {
  shared ??= createAgentMetrics();
  return shared;
}

/** The supervisor probed `service` (see AgentMetrics.recordProbe). */
export function recordProbe(service: string, state: ServiceState, seconds?: number): void {
  agentMetrics().recordProbe(service, state, seconds);
}

/** The supervisor restarted `service`. */
export function recordRestart(service: string): void {
  agentMetrics().recordRestart(service);
}

/** The lease epoch this agent holds for `service` (0: none). */
export function setLeaseEpoch(service: string, epoch: number): void {
  agentMetrics().setLeaseEpoch(service, epoch);
}

/** `service` left this box: its series disappear. */
export function forgetService(service: string): void {
  agentMetrics().forgetService(service);
}

