/**
 * Capacity bookkeeping and the per-server checks every decision goes through.
 *
 * Booked against capacity: every instance's memory and CPU (a standby replica of a single-writer
 * service books no CPU), and the disk of instances new to a server. The score (ranking.ts) adds
 * to the measured load only instances that are not already running where they are.
 */
import { clamp01, type Fleet } from './fleet.js';
import { newRanking, rerank, type Ranking } from './ranking.js';
import type { Instance, ServiceState } from './model.js';
import type { PlacementServer, Role, ServiceNeeds } from './types.js';

// Sums of fractional needs may round just over a capacity they fill exactly.
const EPSILON = 1e-9;

export interface Ledger {
  memoryMb: Float64Array;
  cpu: Float64Array;
  diskGb: Float64Array;
  /** What this plan adds to the measured load, for the score. */
  addedCpu: Float64Array;
  addedMemoryMb: Float64Array;
  ranking: Ranking;
}

export function newLedger(fleet: Fleet): Ledger {
  const size = fleet.size;
  const addedCpu = new Float64Array(size);
  const addedMemoryMb = new Float64Array(size);
  return {
    memoryMb: new Float64Array(size), cpu: new Float64Array(size), diskGb: new Float64Array(size),
    addedCpu, addedMemoryMb, ranking: newRanking(fleet, addedCpu, addedMemoryMb),
  };
}

export function book(fleet: Fleet, ledger: Ledger, i: Instance, sign: 1 | -1 = 1): void {
  const s = i.server;
  ledger.memoryMb[s] = (ledger.memoryMb[s] as number) + sign * i.need.memoryMb;
  ledger.cpu[s] = (ledger.cpu[s] as number) + sign * i.need.cpu;
  if (!i.here) ledger.diskGb[s] = (ledger.diskGb[s] as number) + sign * i.need.diskGb;
  if (i.counted) {
    ledger.addedCpu[s] = (ledger.addedCpu[s] as number) + sign * i.need.cpu;
    ledger.addedMemoryMb[s] = (ledger.addedMemoryMb[s] as number) + sign * i.need.memoryMb;
    rerank(fleet, ledger.ranking, ledger.addedCpu, ledger.addedMemoryMb, s);
  }
}

export function fits(fleet: Fleet, ledger: Ledger, s: number, need: ServiceNeeds, here: boolean): boolean {
  return (ledger.memoryMb[s] as number) + need.memoryMb <= (fleet.memoryMb[s] as number) + EPSILON
    && (ledger.cpu[s] as number) + need.cpu <= (fleet.cpuCores[s] as number) + EPSILON
    && (here || (ledger.diskGb[s] as number) + need.diskGb <= (fleet.diskFreeGb[s] as number) + EPSILON);
}

/** For reasons: the CPU and memory free on `s` after this plan's additions, 0..1. */
export function cpuFreeAt(fleet: Fleet, ledger: Ledger, s: number): number {
  return clamp01((fleet.cpuFree[s] as number) - (ledger.addedCpu[s] as number) * (fleet.perCore[s] as number));
}

export function memoryFreeAt(fleet: Fleet, ledger: Ledger, s: number): number {
  return clamp01((fleet.memoryFree[s] as number) - (ledger.addedMemoryMb[s] as number) * (fleet.perMb[s] as number));
}

/** A replica of the service on `s` that a primary there would promote: booked, not pinned. */
export function promotable(state: ServiceState, s: number): Instance | undefined {
  for (const r of state.replicas) if (r.server === s && r.how !== 'pinned') return r;
  return undefined;
}

/** What an instance of `role` on `s` books; a promotion books only what the primary needs beyond its replica. */
export function needOn(state: ServiceState, role: Role, s: number): ServiceNeeds {
  if (role === 'replica') return state.replicaNeed;
  const r = promotable(state, s);
  if (!r) return state.primaryNeed;
  return { memoryMb: state.primaryNeed.memoryMb - r.need.memoryMb, cpu: state.primaryNeed.cpu - r.need.cpu, diskGb: 0 };
}

/** Whether the service's data is already on `s`, so a new instance books no disk. */
export function dataOn(fleet: Fleet, state: ServiceState, s: number): boolean {
  const c = state.current;
  if (!c) return false;
  const name = fleet.names[s];
  return c.primary === name || c.replicas.includes(name as string);
}

export function runsCurrently(state: ServiceState, role: Role, server: string): boolean {
  const c = state.current;
  if (!c) return false;
  return role === 'primary' ? c.primary === server : c.replicas.includes(server);
}

/**
 * Why `state` may not run an instance of `role` on `server` now, or undefined when it may. The
 * health bar is lower for an instance already running there (see fleet.ts).
 */
export function refusal(fleet: Fleet, ledger: Ledger, state: ServiceState, server: string, role: Role): string | undefined {
  const s = fleet.index.get(server);
  if (s === undefined) return `${server} is not in the fleet`;
  return refusalAt(fleet, ledger, state, s, role, runsCurrently(state, role, server));
}

/** `refusal` for server index `s`, where the caller knows whether the instance already runs there (`keep`). */
export function refusalAt(fleet: Fleet, ledger: Ledger, state: ServiceState, s: number, role: Role, keep: boolean): string | undefined {
  const info = fleet.servers[s] as PlacementServer;
  const server = info.name;
  if (info.draining) return `${server} is draining`;
  if ((keep ? fleet.keeps[s] : fleet.takesNew[s]) !== 1) return `${server} is ${info.health}`;
  const { def } = state;
  if (state.candidates?.mask[s] !== 1) {
    const mount = def.affinity?.mount;
    if (mount !== undefined && !info.mounts?.some((m) => m.path === mount)) return `${server} has no ${mount} mount`;
    if (mount !== undefined && !info.mounts?.some((m) => m.path === mount && m.healthy)) return `${server}'s ${mount} mount is unhealthy`;
    if (def.notOn !== undefined && def.on === undefined) return `${server} matches not_on: ${def.notOn}`;
    if (def.on !== undefined && def.notOn === undefined) return `${server} does not match on: ${def.on}`;
    return `${server} does not match on: ${def.on ?? ''} / not_on: ${def.notOn ?? ''}`;
  }
  if (role === 'replica' && state.primary?.server === s) return `${server} runs its primary`;
  for (const r of state.replicas) {
    if (r.server !== s) continue;
    if (role === 'replica') return `${server} already runs a replica of it`;
    if (r.how === 'pinned') return `${server} runs its pinned replica`;
  }
  const need = needOn(state, role, s);
  const here = keep || dataOn(fleet, state, s);
  if (fits(fleet, ledger, s, need, here)) return undefined;
  return shortfall(fleet, ledger, s, need, here);
}

/** Which resource runs short, in words: "eden has 512 MB memory unbooked, needs 2048 MB". */
export function shortfall(fleet: Fleet, ledger: Ledger, s: number, need: ServiceNeeds, here: boolean): string {
  const name = fleet.names[s] as string;
  const memory = (fleet.memoryMb[s] as number) - (ledger.memoryMb[s] as number);
  if (need.memoryMb > memory + EPSILON) return `${name} has ${mb(memory)} memory unbooked, needs ${mb(need.memoryMb)}`;
  const cpu = (fleet.cpuCores[s] as number) - (ledger.cpu[s] as number);
  if (need.cpu > cpu + EPSILON) return `${name} has ${cores(cpu)} unbooked, needs ${cores(need.cpu)}`;
  const disk = (fleet.diskFreeGb[s] as number) - (ledger.diskGb[s] as number);
  if (!here && need.diskGb > disk + EPSILON) return `${name} has ${gb(disk)} free, needs ${gb(need.diskGb)}`;
  return `${name} has room`;
}

const trim = (n: number) => String(Math.round(Math.max(0, n) * 100) / 100);
export const mb = (n: number) => `${trim(n)} MB`;
export const gb = (n: number) => `${trim(n)} GB`;
export const cores = (n: number) => `${trim(n)} CPU ${Math.abs(n - 1) < 1e-9 ? 'core' : 'cores'}`;
