/**
 * The controller's service distribution: it reads a snapshot, asks the placement engine for a
 * plan, keeps the decided placement (with each service's fencing epoch) in the store, tells each
 * agent which services to run through `set-services`, and fails services over when a primary's
 * server is gone past the grace period or its service failed after its restart budget.
 * Decisions are the pure functions in placement/, snapshot.ts and failover.ts; this is the shell.
 */
import { factsSchema } from '../../agent/facts-schema.js';
import { placementMounts } from '../../storage/health.js';
import { CisternError } from '../../errors.js';
import type { Inventory } from '../../inventory/schema.js';
import { plan, type PlanResult } from '../../placement/index.js';
import { resolveServices, type ResolvedService } from '../../services/resolve.js';
import type { Logger } from '../../util/logger.js';
import type { ControllerMetrics } from '../../monitoring/controller-metrics.js';
import type { ControllerCore } from '../core.js';
import type { ServiceStatus } from '../../protocol/messages.js';
import { failoverDecisions, promote, type FailoverCause, type Promotion } from './failover.js';
import { buildSnapshot, placedServiceNames, type LiveServer } from './snapshot.js';
import { applyPlacements, EMPTY_STATE, servicesStateSchema, type ServicesState } from './state.js';

const STATE_KEY = 'services.state';

export interface ServiceManagerOptions {
  core: ControllerCore;
  inventory: () => Inventory | undefined;
  logger: Logger;
  /** How long a primary's server must be unreachable before its services fail over. */
  graceMs: number;
  /** With `failback: auto`, how long the preferred server must be healthy before a service moves back. */
  failbackStableMs?: number;
  clock?: () => number;
  /** Where placement and failover counts go (the controller's /metrics). */
  metrics?: Pick<ControllerMetrics, 'recordPlacement' | 'setUnplaceable' | 'recordFailover'>;
}

export interface ServiceView {
  name: string;
  primary: string | null;
  replicas: string[];
  epoch: number;
  singleWriter: boolean;
  /** The latest probe state each server reports for it. */
  health: Record<string, string>;
  /** What its authenticated status probe last said, on each server that ran one (absent from older controllers). */
  status?: Record<string, ServiceStatus>;
  reasons: PlanResult['placements'][number]['reasons'];
  unplaceable: string | null;
}

export interface DesiredService {
  name: string;
  definition: ResolvedService;
  run: boolean;
  epoch: number;
  process?: { argv: string[]; env?: Record<string, string> };
  supervision?: Record<string, unknown>;
}

export class ServiceManager {
  private readonly failed = new Map<string, string>();
  private readonly stuckReported = new Set<string>();
  private readonly clock: () => number;
  private readonly core: ControllerCore;

  constructor(private readonly options: ServiceManagerOptions) {
    this.clock = options.clock ?? options.core.clock;
    this.core = options.core;
  }

  state(): ServicesState {
    const text = this.core.store.meta.get(STATE_KEY);
    if (text === undefined) return EMPTY_STATE;
    const parsed = servicesStateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new CisternError('E_INTERNAL', `the stored service placement is damaged (${parsed.error.issues[0]?.path.join('.') ?? ''})`);
    return parsed.data;
  }

  private save(state: ServicesState): void {
    this.core.store.meta.set(STATE_KEY, JSON.stringify(state));
  }

  definitions(): ResolvedService[] {
    const inventory = this.options.inventory();
    return inventory ? resolveServices(inventory) : [];
  }

  private live(): LiveServer[] {
    return this.core.servers().map((view) => {
      const agent = view.agentId ? this.core.store.agents.get(view.agentId) : undefined;
      const mounts = view.agentId ? this.core.fleet.get(view.agentId)?.mounts : undefined;
      return {
        name: view.name,
        health: view.health,
        profile: view.profile,
        load: view.load ? { cpuPercent: view.load.cpuPercent, memoryPercent: view.load.memoryPercent } : null,
        facts: agent ? factsSchema.safeParse(agent.facts).data : undefined,
        ...(mounts && { mounts: placementMounts(mounts) }),
      };
    });
  }

  /** The plan against the placement in force, changing nothing. */
  plan(): PlanResult {
    return plan(buildSnapshot({ inventory: this.options.inventory(), servers: this.live(), definitions: this.definitions(), state: this.state() }));
  }

  view(): ServiceView[] {
    const state = this.state();
    const result = this.plan();
    const probes = new Map(this.core.servers().map((s) => [s.name, s.probes]));
    const defs = new Map(this.definitions().map((d) => [d.name, d]));
    return placedServiceNames(this.options.inventory(), [...defs.values()]).map((name) => {
      const record = state.services[name];
      const servers = [record?.primary, ...(record?.replicas ?? [])].filter((s): s is string => typeof s === 'string');
      const health = Object.fromEntries(servers.map((s) => [s, probes.get(s)?.[name]?.state ?? 'unknown']));
      const status = Object.fromEntries(servers.flatMap((s) => {
        const reported = probes.get(s)?.[name]?.status;
        return reported ? [[s, reported] as const] : [];
      }));
      return {
        name, primary: record?.primary ?? null, replicas: record?.replicas ?? [], epoch: record?.epoch ?? 0,
        singleWriter: defs.get(name)?.single_writer ?? false, health, status,
        reasons: result.placements.find((p) => p.service === name)?.reasons ?? [],
        unplaceable: result.unplaceable.find((u) => u.service === name && u.role === 'primary')?.reason ?? null,
      };
    });
  }

  /** Makes the plan the placement in force and tells every connected agent. */
  async apply(): Promise<PlanResult & { pushed: PushResult[] }> {
    const result = this.plan();
    const before = this.state();
    const after = applyPlacements(before, result.placements, this.clock());
    this.save(after);
    this.options.metrics?.recordPlacement(result.moves.length > 0 ? 'applied' : 'unchanged');
    this.options.metrics?.setUnplaceable(result.unplaceable.filter((u) => u.role === 'primary').length);
    this.core.events.record('placement-applied', null, { moves: result.moves.length, unplaceable: result.unplaceable.length });
    for (const m of result.moves) this.core.events.record('service-moved', m.to ?? m.from, { service: m.service, role: m.role, from: m.from, to: m.to, why: m.why });
    return { ...result, pushed: await this.pushAll() };
  }

  /** `services move SERVICE --to SERVER`: an order that outranks the inventory's pin, then applied. */
  async move(service: string, to: string): Promise<PlanResult & { pushed: PushResult[] }> {
    const state = this.requirePlaced(service);
    if (!this.core.servers().some((s) => s.name === to)) throw new CisternError('E_SERVER_NOT_FOUND', `no server named "${to}"`);
    const record = state.services[service] ?? { primary: null, replicas: [], epoch: 0, since: this.clock() };
    this.save({ version: 1, services: { ...state.services, [service]: { ...record, pinnedPrimary: to } } });
    const result = await this.apply();
    const placed = this.state().services[service];
    if (placed?.primary !== to) {
      const why = result.conflicts.find((c) => c.service === service && c.role === 'primary')?.reason ?? 'the placement engine put it elsewhere';
      throw new CisternError('E_BAD_REQUEST', `${service} cannot run on ${to}: ${why}`);
    }
    return result;
  }

  /** `cistern failover SERVICE [--to SERVER]`: promote now, to the named replica or the first healthy one. */
  async failover(service: string, to?: string): Promise<Promotion & { epoch: number }> {
    const state = this.requirePlaced(service);
    const record = state.services[service];
    if (!record?.primary) throw new CisternError('E_BAD_REQUEST', `${service} has no primary to fail over from; run cistern services apply`);
    const healthy = new Map(this.core.servers().map((s) => [s.name, s.health]));
    const target = to ?? record.replicas.find((r) => healthy.get(r) === 'healthy');
    if (!target) throw new CisternError('E_BAD_REQUEST', `${service} has no replica on a healthy server to fail over to`);
    if (target === record.primary) throw new CisternError('E_BAD_REQUEST', `${service} already runs on ${target}`);
    if (!healthy.has(target)) throw new CisternError('E_SERVER_NOT_FOUND', `no server named "${target}"`);
    const promotion: Promotion = { service, from: record.primary, to: target, cause: 'manual', detectedAt: this.clock(), replicas: [record.primary, ...record.replicas.filter((r) => r !== target)] };
    const next = promote(state, [promotion], this.clock());
    const promoted = next.services[service];
    if (promoted) promoted.pinnedPrimary = target;
    this.save(next);
    this.recordFailover(promotion, promoted?.epoch ?? 0);
    await this.pushAll();
    return { ...promotion, epoch: promoted?.epoch ?? 0 };
  }

  /** An agent gave up on a service (restart budget spent): fail it over on the next tick. */
  serviceFailed(server: string, service: string): void {
    if (this.state().services[service]?.primary === server) this.failed.set(service, server);
  }

  /** Automatic failover: called on the controller's health tick. */
  async tick(): Promise<void> {
    const state = this.state();
    if (Object.keys(state.services).length === 0) return;
    const now = this.clock();
    const servers = new Map(this.core.servers().map((s) => [s.name, { health: s.health, since: this.sinceOf(s.agentId) ?? now }]));
    const inventory = this.options.inventory();
    const auto = new Set(Object.entries(inventory?.services ?? {}).filter(([, e]) => (e as { failback?: string } | null)?.failback === 'auto').map(([n]) => n));
    const preferred = new Map(Object.entries(inventory?.services ?? {}).flatMap(([n, e]) => (e?.primary ? [[n, e.primary] as [string, string]] : [])));
    const { promotions, stuck } = failoverDecisions({
      state, servers, failed: this.failed, graceMs: this.options.graceMs, now,
      failback: { services: auto, stableMs: this.options.failbackStableMs ?? 300_000, preferred },
    });
    for (const s of stuck) {
      const key = `${s.service}@${s.from}`;
      if (this.stuckReported.has(key)) continue;
      this.stuckReported.add(key);
      this.core.events.record('failover-stuck', s.from, { service: s.service, reason: s.reason });
    }
    if (promotions.length === 0) return;
    const next = promote(state, promotions, now);
    this.save(next);
    for (const p of promotions) {
      this.failed.delete(p.service);
      this.recordFailover(p, next.services[p.service]?.epoch ?? 0);
    }
    await this.pushAll();
  }

  private sinceOf(agentId: string | null): number | undefined {
    return agentId ? this.core.fleet.get(agentId)?.health.since : undefined;
  }

  private recordFailover(p: Promotion, epoch: number): void {
    const now = this.clock();
    this.core.events.record('failover', p.to, { service: p.service, from: p.from, to: p.to, cause: p.cause satisfies FailoverCause, epoch, detectedAt: p.detectedAt, afterMs: now - p.detectedAt });
    this.options.logger.warn({ service: p.service, from: p.from, to: p.to, cause: p.cause, epoch }, 'failed a service over');
    this.options.metrics?.recordFailover(p.service, p.cause);
    this.stuckReported.clear();
  }

  private requirePlaced(service: string): ServicesState {
    if (!placedServiceNames(this.options.inventory(), this.definitions()).includes(service)) {
      throw new CisternError('E_NOT_FOUND', `no placed service named "${service}"`, { hint: 'the inventory\'s services: section lists the services Cistern places' });
    }
    return this.state();
  }

  /** What `server` should supervise: its primaries run, its replicas stand by. */
  desiredFor(server: string): DesiredService[] {
    const state = this.state();
    const inventory = this.options.inventory();
    const defs = new Map(this.definitions().map((d) => [d.name, d]));
    const out: DesiredService[] = [];
    for (const [name, record] of Object.entries(state.services).sort(([a], [b]) => a.localeCompare(b))) {
      const definition = defs.get(name);
      if (!definition || (record.primary !== server && !record.replicas.includes(server))) continue;
      const entry = (inventory?.services?.[name] ?? {}) as { process?: DesiredService['process']; supervision?: Record<string, unknown> };
      out.push({ name, definition, run: record.primary === server, epoch: record.epoch, ...(entry.process && { process: entry.process }), ...(entry.supervision && { supervision: entry.supervision }) });
    }
    return out;
  }

  /** The leases `server` holds: service → epoch, for the services it is primary of. */
  leasesFor(server: string): Record<string, number> {
    const leases: Record<string, number> = {};
    for (const [name, record] of Object.entries(this.state().services)) if (record.primary === server) leases[name] = record.epoch;
    return leases;
  }

  /** Sends each connected agent its services; one failing agent never stops the others. */
  async pushAll(): Promise<PushResult[]> {
    const agents = this.core.servers().filter((s) => s.agentId && s.connected);
    return Promise.all(agents.map((s) => this.push(s.name, s.agentId as string)));
  }

  async push(server: string, agentId: string): Promise<PushResult> {
    const services = this.desiredFor(server).map((d) => ({
      name: d.name, definition: d.definition, run: d.run,
      ...(d.process && { driver: 'process' as const, process: d.process }), ...(d.supervision && { supervision: d.supervision }),
    }));
    try {
      const result = await this.core.hub.command(agentId, 'set-services', { services }, 15_000);
      if (!result.ok) this.options.logger.warn({ server, error: result.error }, 'an agent refused its services');
      return { server, ok: result.ok, error: result.ok ? null : (result.error ?? 'refused') };
    } catch (error) {
      return { server, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }
}

export interface PushResult { server: string; ok: boolean; error: string | null }
