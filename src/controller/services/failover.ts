/**
 * When to fail a service over, and to where: a pure decision over the placement, each server's
 * health with the time it went bad, and the services agents gave up on (restart budget spent).
 *
 * - A primary whose server has been `unreachable` or `down` for longer than the grace period, or
 *   whose service failed there, is replaced by its first replica whose server is healthy; the
 *   old primary becomes a replica (its data is a standby once it returns). Failback is off
 *   unless asked for.
 * - The grace period must outlast the lease an agent holds on a single-writer service: by the
 *   time a replica is promoted, a cut-off old primary has stopped its own copy (see leases.ts).
 * - With no healthy replica nothing moves: the decision says why, and the service stays down
 *   rather than starting single-writer state from nothing somewhere else.
 */
import type { ServicesState } from './state.js';

export type FailoverCause = 'server-unreachable' | 'service-failed' | 'manual' | 'failback';

export interface ServerHealth {
  health: string;
  /** Since when the server has been in its current health (epoch ms). */
  since: number;
}

export interface FailoverInput {
  state: ServicesState;
  servers: ReadonlyMap<string, ServerHealth>;
  /** Services an agent reported failed after its restart budget: service → server. */
  failed: ReadonlyMap<string, string>;
  graceMs: number;
  now: number;
  /** Services whose failback policy is `auto`, and how long the old primary must be healthy first. */
  failback?: { services: ReadonlySet<string>; stableMs: number; preferred: ReadonlyMap<string, string> };
}

export interface Promotion {
  service: string;
  from: string | null;
  to: string;
  cause: FailoverCause;
  /** When the problem began (the server went bad), for the event's timing. */
  detectedAt: number;
  replicas: string[];
}

export interface Stuck { service: string; from: string | null; reason: string }

const BAD = new Set(['unreachable', 'down']);

export function failoverDecisions(input: FailoverInput): { promotions: Promotion[]; stuck: Stuck[] } {
  const promotions: Promotion[] = [];
  const stuck: Stuck[] = [];
  for (const [service, record] of Object.entries(input.state.services).sort(([a], [b]) => a.localeCompare(b))) {
    const primary = record.primary;
    if (primary === null) continue;
    const health = input.servers.get(primary);
    const serverBad = health !== undefined && BAD.has(health.health) && input.now - health.since >= input.graceMs;
    const serviceFailed = input.failed.get(service) === primary;
    if (serverBad || serviceFailed) {
      const cause: FailoverCause = serverBad ? 'server-unreachable' : 'service-failed';
      const to = record.replicas.find((r) => input.servers.get(r)?.health === 'healthy');
      if (!to) {
        stuck.push({ service, from: primary, reason: `${service}: ${primary} is ${serverBad ? health?.health : 'failing it'}, and no replica is on a healthy server to take over` });
        continue;
      }
      promotions.push({ service, from: primary, to, cause, detectedAt: serverBad ? (health?.since ?? input.now) : input.now, replicas: [primary, ...record.replicas.filter((r) => r !== to)] });
      continue;
    }
    // Failback: back to the preferred (pinned) server once it has been healthy long enough.
    const fb = input.failback;
    const home = fb?.preferred.get(service);
    if (!fb || !home || home === primary || !fb.services.has(service) || !record.replicas.includes(home)) continue;
    const homeHealth = input.servers.get(home);
    if (homeHealth?.health === 'healthy' && input.now - homeHealth.since >= fb.stableMs) {
      promotions.push({ service, from: primary, to: home, cause: 'failback', detectedAt: homeHealth.since, replicas: [primary, ...record.replicas.filter((r) => r !== home)] });
    }
  }
  return { promotions, stuck };
}

/** The state after promotions: each promoted service gets a higher epoch. */
export function promote(state: ServicesState, promotions: readonly Promotion[], now: number): ServicesState {
  const services = { ...state.services };
  for (const p of promotions) {
    const before = services[p.service];
    if (!before) continue;
    const { pinnedPrimary, ...rest } = before;
    services[p.service] = {
      ...rest, primary: p.to, replicas: p.replicas, epoch: before.epoch + 1, since: now,
      // An admin's order stays only while the service is where it said.
      ...(pinnedPrimary !== undefined && pinnedPrimary === p.to && { pinnedPrimary }),
    };
  }
  return { version: 1, services };
}
