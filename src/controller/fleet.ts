/**
 * The controller's live view of the fleet: per agent, its health state machine, its last load
 * and service probes. Heartbeats and ticks go in; health transitions come out as events. Kept
 * in memory: a restart re-derives health from fresh heartbeats (see health.ts).
 */
import type { Heartbeat, Load, MountHealth } from '../protocol/messages.js';
import { onHeartbeat, onTick, startTracking, type HealthConfig, type HealthTransition, type ServerHealth } from './health.js';

export interface LiveAgent {
  agentId: string;
  name: string;
  health: ServerHealth;
  load: Load | undefined;
  services: Heartbeat['services'];
  /** The latest mount health the agent reported; undefined until it reports any (older agents never do). */
  mounts: MountHealth[] | undefined;
  connected: boolean;
}

export interface FleetTransition extends HealthTransition { agentId: string; name: string }

export class Fleet {
  private readonly agents = new Map<string, LiveAgent>();

  constructor(readonly config: HealthConfig) {}

  /** Starts tracking an agent (at controller start or registration); its state is unknown. */
  track(agentId: string, name: string, now: number, lastSeenAt: number | null = null): LiveAgent {
    let agent = this.agents.get(agentId);
    if (!agent) {
      agent = { agentId, name, health: startTracking(now, lastSeenAt), load: undefined, services: {}, mounts: undefined, connected: false };
      this.agents.set(agentId, agent);
    }
    return agent;
  }

  forget(agentId: string): void {
    this.agents.delete(agentId);
  }

  get(agentId: string): LiveAgent | undefined {
    return this.agents.get(agentId);
  }

  all(): LiveAgent[] {
    return [...this.agents.values()];
  }

  setConnected(agentId: string, connected: boolean): void {
    const agent = this.agents.get(agentId);
    if (agent) agent.connected = connected;
  }

  heartbeat(agentId: string, message: Heartbeat, now: number): FleetTransition[] {
    const agent = this.agents.get(agentId);
    if (!agent) return [];
    agent.load = message.load ?? agent.load;
    agent.services = message.services;
    agent.mounts = message.mounts ?? agent.mounts;
    const step = onHeartbeat(agent.health, now, this.config);
    agent.health = step.health;
    return step.transitions.map((t) => ({ ...t, agentId, name: agent.name }));
  }

  tick(now: number): FleetTransition[] {
    const out: FleetTransition[] = [];
    for (const agent of this.agents.values()) {
      const step = onTick(agent.health, now, this.config);
      agent.health = step.health;
      for (const t of step.transitions) out.push({ ...t, agentId: agent.agentId, name: agent.name });
    }
    return out;
  }
}
