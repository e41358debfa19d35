/**
 * The controller's decisions around its I/O: registration, heartbeats and health transitions,
 * and the fleet view the API and `cistern status` show. Routes call this; it calls the store,
 * the fleet state, the event log and the inventory binding it was given.
 */
import { randomUUID } from 'node:crypto';
import { CisternError } from '../errors.js';
import type { Heartbeat, MountHealth, RegisterRequest, RegisterResponse } from '../protocol/messages.js';
import { effectiveProfile } from '../agent/profile.js';
import { factsSchema, type Facts } from '../agent/facts-schema.js';
import type { EventLog } from './events.js';
import type { Fleet, FleetTransition, LiveAgent } from './fleet.js';
import { inventoryHealth, type HealthState } from './health.js';
import type { Hub } from './hub.js';
import type { AgentRecord, ControllerStore, JoinTokenView } from './ports.js';
import { keyFingerprint } from '../discovery/records.js';
import { generateJoinToken, generateSecret, hashSecret, parseJoinToken } from './tokens.js';

/** The inventory as the controller sees it: optional, so a controller runs without a file. */
export interface InventoryBinding {
  /** The inventory server a new agent is, if the admin declared it (by name or hostname). */
  match(name: string, hostname: string): string | undefined;
  /** Every server name in the inventory (taken, for picking a new agent's name). */
  names(): string[];
  server(name: string): { hostname?: string; address?: string; hardware_type?: string; hardware_profile?: string; services?: string[] } | undefined;
  registered(name: string, info: { hostname: string; address: string | null; facts: Record<string, unknown> }): void;
  healthChanged(name: string, health: ReturnType<typeof inventoryHealth>, at: number): void;
  /** Paths every agent reports mount health for besides its network mounts: the inventory's media root. */
  watchPaths?(): string[];
}

export interface CoreConfig {
  heartbeatIntervalMs: number;
  /** How long a lease an acknowledgement grants stays valid on the agent without another; default 3 intervals. */
  leaseTtlMs?: number;
}

export interface ServerView {
  name: string;
  agentId: string | null;
  hostname: string | null;
  address: string | null;
  profile: string;
  profileReason: string;
  storageHeavy: boolean;
  health: HealthState | 'unknown';
  flapping: boolean;
  lastSeen: string | null;
  connected: boolean;
  load: { load1: number; cpuPercent: number; memoryPercent: number; diskPercent: number } | null;
  services: string[];
  probes: Heartbeat['services'];
  /** Mount health from the agent's last report; absent until it sends one. */
  mounts?: MountHealth[];
}

const REFUSAL_CODE = { unknown: 'E_TOKEN_UNKNOWN', expired: 'E_TOKEN_EXPIRED', 'used-up': 'E_TOKEN_USED_UP', revoked: 'E_TOKEN_REVOKED' } as const;

export function nameFrom(text: string): string {
  const base = text.split('.')[0]?.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') ?? '';
  return base === '' ? 'server' : base.slice(0, 63);
}

export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

// Facts come from the agent and are stored as sent: read them only through the schema, so a
// malformed report cannot fail a registration or the fleet view.
function firstAddress(facts: Record<string, unknown>): string | null {
  const interfaces = factsSchema.shape.interfaces.safeParse(facts.interfaces);
  for (const i of interfaces.data ?? []) for (const a of i.addresses) if (!a.startsWith('fe80') && a.includes('.')) return a;
  return null;
}

function validFacts(facts: Record<string, unknown>): Facts | undefined {
  return factsSchema.safeParse(facts).data;
}

export class ControllerCore {
  private readonly unsaved = new Set<string>();
  /** The leases an agent holds (service → epoch), sent with every heartbeat acknowledgement. */
  leaseSource: ((name: string) => Record<string, number>) | undefined;
  /** Called when an agent's connection opens (the service manager sends it its services). */
  onAgentConnected: ((name: string, agentId: string) => void) | undefined;

  constructor(
    readonly store: ControllerStore,
    readonly fleet: Fleet,
    readonly hub: Hub,
    readonly events: EventLog,
    readonly config: CoreConfig,
    readonly inventory: InventoryBinding | undefined,
    readonly clock: () => number = Date.now,
  ) {
    for (const agent of store.agents.list()) {
      if (agent.revokedAt !== null) continue;
      fleet.track(agent.id, agent.name, clock(), agent.lastSeenAt);
      // Agents registered before the controller was given this inventory join it now; for the
      // others this writes only if their facts changed.
      inventory?.registered(agent.name, { hostname: agent.hostname, address: agent.address, facts: agent.facts });
    }
  }

  createJoinToken(options: { ttlMs: number | null; uses: number | null; group: string | null; description: string | null; kind?: JoinTokenView['kind'] }): JoinTokenView & { token: string } {
    const now = this.clock();
    const { id, secret, token } = generateJoinToken();
    const view: JoinTokenView = { id, group: options.group, description: options.description, createdAt: now, expiresAt: options.ttlMs === null ? null : now + options.ttlMs, usesLeft: options.uses, revokedAt: null, kind: options.kind ?? 'join' };
    this.store.tokens.create({ ...view, secretHash: hashSecret(secret) });
    this.events.record('token-created', null, { token: id, kind: view.kind, group: view.group, usesLeft: view.usesLeft, expiresAt: view.expiresAt });
    return { ...view, token };
  }

  register(request: RegisterRequest): RegisterResponse {
    const parsed = parseJoinToken(request.token);
    const now = this.clock();
    const credential = generateSecret('cag_');
    // Redeeming the token and creating the agent are one transaction: a failed registration
    // does not use up a single-use token.
    const outcome = this.store.transaction(() => {
      const redeemed = parsed ? this.store.tokens.redeem(parsed.id, hashSecret(parsed.secret), now) : { ok: false as const, reason: 'unknown' as const, message: 'the join token is malformed' };
      if (!redeemed.ok) return redeemed;
      const agent = this.createAgent(request, redeemed.token.group, credential, now);
      return { ok: true as const, agent, token: redeemed.token };
    });
    if (!outcome.ok) {
      this.events.record('registration-refused', null, { hostname: request.hostname, reason: outcome.reason });
      throw new CisternError(REFUSAL_CODE[outcome.reason], outcome.message, { hint: 'ask the admin for a new join token: cistern token create' });
    }
    const { agent, token } = outcome;
    this.admitted(agent, request.facts, { token: token.id, kind: token.kind, group: token.group });
    return { agentId: agent.id, name: agent.name, credential, heartbeatIntervalMs: this.config.heartbeatIntervalMs };
  }

  /** The admin approved a discovered box: it becomes an agent without a join token. */
  approve(box: Omit<RegisterRequest, 'token'>, group: string | null, fingerprint: string): RegisterResponse {
    const now = this.clock();
    const credential = generateSecret('cag_');
    const agent = this.store.transaction(() => this.createAgent(box, group, credential, now));
    this.admitted(agent, box.facts, { via: 'approval', fingerprint, group });
    return { agentId: agent.id, name: agent.name, credential, heartbeatIntervalMs: this.config.heartbeatIntervalMs };
  }

  /** Key fingerprints of the agents that are registered and not revoked. */
  registeredKeys(): Map<string, string> {
    const keys = new Map<string, string>();
    for (const agent of this.store.agents.list()) if (agent.revokedAt === null && agent.ageRecipient) keys.set(keyFingerprint(agent.ageRecipient), agent.id);
    return keys;
  }

  private createAgent(request: Omit<RegisterRequest, 'token'>, group: string | null, credential: string, now: number): AgentRecord {
    const taken = new Set(this.store.agents.list().map((a) => a.name));
    const base = nameFrom(request.name ?? request.hostname);
    const declared = this.inventory?.match(base, request.hostname);
    const name = declared && !taken.has(declared) ? declared : uniqueName(base, new Set([...taken, ...(this.inventory?.names() ?? [])]));
    const agent: AgentRecord = {
      id: randomUUID(), name, hostname: request.hostname, address: firstAddress(request.facts), credentialHash: hashSecret(credential),
      ageRecipient: request.ageRecipient, group, facts: request.facts, createdAt: now, lastSeenAt: null, revokedAt: null,
    };
    this.store.agents.create(agent);
    return agent;
  }

  private admitted(agent: AgentRecord, facts: Record<string, unknown>, how: Record<string, unknown>): void {
    this.fleet.track(agent.id, agent.name, agent.createdAt);
    this.events.record('registered', agent.name, { hostname: agent.hostname, ...how });
    this.inventory?.registered(agent.name, { hostname: agent.hostname, address: agent.address, facts });
  }

  /** What agents are asked to watch, sent with every heartbeat's ack. */
  watchPaths(): string[] {
    return this.inventory?.watchPaths?.() ?? [];
  }

  heartbeat(agentId: string, message: Heartbeat): void {
    const now = this.clock();
    this.unsaved.add(agentId);
    this.applyTransitions(this.fleet.heartbeat(agentId, message, now));
  }

  /**
   * Persists last-seen times. One UPDATE per heartbeat was the controller's largest own cost at
   * 2,000 agents, so heartbeats only mark the agent and this writes them in one transaction;
   * the daemon calls it every few seconds and on shutdown.
   */
  flushLastSeen(): number {
    if (this.unsaved.size === 0) return 0;
    const ids = [...this.unsaved];
    this.unsaved.clear();
    this.store.transaction(() => {
      for (const id of ids) {
        const at = this.fleet.get(id)?.health.lastHeartbeatAt;
        if (at != null) this.store.agents.touch(id, at);
      }
    });
    return ids.length;
  }

  tick(): void {
    this.applyTransitions(this.fleet.tick(this.clock()));
  }

  updateFacts(agentId: string, facts: Record<string, unknown>): void {
    const agent = this.store.agents.get(agentId);
    if (!agent) return;
    this.store.agents.updateFacts(agentId, facts);
    this.inventory?.registered(agent.name, { hostname: agent.hostname, address: agent.address, facts });
  }

  revokeAgent(name: string): AgentRecord {
    const agent = this.agentByName(name);
    this.store.agents.revoke(agent.id, this.clock());
    this.hub.disconnect(agent.id, 4003, 'agent revoked');
    this.fleet.forget(agent.id);
    this.events.record('agent-revoked', agent.name, {});
    return agent;
  }

  agentByName(name: string): AgentRecord {
    const agent = this.store.agents.list().find((a) => a.name === name && a.revokedAt === null);
    if (!agent) throw new CisternError('E_SERVER_NOT_FOUND', `no registered agent named "${name}"`);
    return agent;
  }

  private applyTransitions(transitions: FleetTransition[]): void {
    for (const t of transitions) {
      this.events.record('health', t.name, { from: t.from, to: t.to, reason: t.reason });
      this.inventory?.healthChanged(t.name, inventoryHealth(t.to), t.at);
    }
  }

  servers(): ServerView[] {
    const views = new Map<string, ServerView>();
    for (const agent of this.store.agents.list()) {
      if (agent.revokedAt !== null) continue;
      views.set(agent.name, this.view(agent.name, agent, this.fleet.get(agent.id)));
    }
    for (const name of this.inventory?.names() ?? []) if (!views.has(name)) views.set(name, this.view(name, undefined, undefined));
    return [...views.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private view(name: string, agent: AgentRecord | undefined, live: LiveAgent | undefined): ServerView {
    const declared = this.inventory?.server(name);
    const profile = effectiveProfile(declared ?? {}, agent ? validFacts(agent.facts) : undefined);
    const load = live?.load;
    const percent = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 1000) / 10 : 0);
    return {
      name,
      agentId: agent?.id ?? null,
      hostname: agent?.hostname ?? declared?.hostname ?? null,
      address: declared?.address ?? declared?.hostname ?? agent?.address ?? null,
      profile: profile.profile,
      profileReason: profile.reason,
      storageHeavy: profile.storageHeavy,
      health: live?.health.state ?? 'unknown',
      flapping: live?.health.flapping ?? false,
      lastSeen: (live?.health.lastHeartbeatAt ?? agent?.lastSeenAt) ? new Date((live?.health.lastHeartbeatAt ?? agent?.lastSeenAt) as number).toISOString() : null,
      connected: live?.connected ?? false,
      load: load ? { load1: load.load1, cpuPercent: load.cpuPercent, memoryPercent: percent(load.memoryUsedBytes, load.memoryTotalBytes), diskPercent: percent(load.diskUsedBytes, load.diskTotalBytes) } : null,
      services: declared?.services ?? [],
      probes: live?.services ?? {},
      ...(live?.mounts && { mounts: live.mounts }),
    };
  }
}
