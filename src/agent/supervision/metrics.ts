/**
 * The supervisor's numbers, for the agent's /metrics endpoint. The supervisor pushes into a
 * `SupervisorMetricsSink`, whose methods are those of the agent's prom-client metrics
 * (src/monitoring/agent-metrics.ts), so that object can be passed as it is; `SupervisorMetrics`
 * is an in-memory sink that tests and other readers can `snapshot()`. Names, as in
 * src/monitoring/metric-names.ts AGENT_METRICS:
 *
 * - serviceUp `cistern_agent_service_up` {service}: 1 when the state is healthy, else 0
 * - serviceState `cistern_agent_service_state` {service, state}: 1 for the current state
 * - probeDuration `cistern_agent_service_probe_duration_seconds` {service}: histogram
 * - restarts `cistern_agent_service_restarts_total` {service}: counter
 * - status `cistern_agent_service_status` {service, verdict}: 1 for the status probe's last verdict
 */
import type { Verdict } from '../../services/schema.js';
import type { ReportedState } from '../../supervisor/index.js';

export interface SupervisorMetricsSink {
  /** The service's reported state, whenever it may have changed (first seen included). */
  setState(service: string, state: ReportedState): void;
  /** A probe of `service` took `seconds`. */
  observeProbe(service: string, seconds: number): void;
  recordRestart(service: string): void;
  /** The status probe's last verdict; undefined when there is none (no key, or the service restarted). */
  setStatus(service: string, verdict: Verdict | undefined): void;
  /** The service is no longer supervised here: its state goes; with `keepCounters`, restarts and probe times stay. */
  forgetService(service: string, options?: { keepCounters?: boolean }): void;
}

/** Seconds: probes answer in milliseconds, or hang until their timeout (the buckets of src/monitoring/agent-metrics.ts). */
export const PROBE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface ServiceMetrics {
  service: string;
  /** Absent once the service is no longer supervised. */
  state: ReportedState | undefined;
  up: 0 | 1;
  restartsTotal: number;
  /** The status probe's last verdict, when there is one. */
  status: Verdict | undefined;
  probes: { count: number; sumSeconds: number; buckets: Array<{ le: number; count: number }> };
}

interface Entry { state: ReportedState | undefined; status: Verdict | undefined; restarts: number; count: number; sum: number; buckets: number[] }

export class SupervisorMetrics implements SupervisorMetricsSink {
  private readonly services = new Map<string, Entry>();

  private entry(service: string): Entry {
    let e = this.services.get(service);
    if (!e) {
      e = { state: undefined, status: undefined, restarts: 0, count: 0, sum: 0, buckets: PROBE_BUCKETS.map(() => 0) };
      this.services.set(service, e);
    }
    return e;
  }

  setState(service: string, state: ReportedState): void {
    this.entry(service).state = state;
  }

  observeProbe(service: string, seconds: number): void {
    const e = this.entry(service);
    e.count += 1;
    e.sum += seconds;
    PROBE_BUCKETS.forEach((le, i) => { if (seconds <= le) e.buckets[i] = (e.buckets[i] ?? 0) + 1; });
  }

  recordRestart(service: string): void {
    this.entry(service).restarts += 1;
  }

  setStatus(service: string, verdict: Verdict | undefined): void {
    this.entry(service).status = verdict;
  }

  forgetService(service: string, options: { keepCounters?: boolean } = {}): void {
    const e = this.services.get(service);
    if (!e) return;
    e.status = undefined;
    if (options.keepCounters) e.state = undefined;
    else this.services.delete(service);
  }

  /** Every service seen, sorted by name; buckets are cumulative, as Prometheus wants them. */
  snapshot(): ServiceMetrics[] {
    return [...this.services.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([service, e]) => ({
      service,
      state: e.state,
      up: e.state === 'healthy' ? 1 : 0,
      restartsTotal: e.restarts,
      status: e.status,
      probes: { count: e.count, sumSeconds: e.sum, buckets: PROBE_BUCKETS.map((le, i) => ({ le, count: e.buckets[i] ?? 0 })) },
    }));
  }
}
