/**
 * The services of a snapshot, checked and grouped. A service with `affinity.with` joins the unit
 * of the service it names: a unit's primaries all share one server (its home), chosen for the
 * whole unit. A service whose definition is broken — a selector that does not parse, an unknown
 * or circular `with` — is frozen where it is, and so is every service that runs with it.
 */
import type { Fleet, Candidates } from './fleet.js';
import { PROFILES } from './fleet.js';
import type { CurrentPlacement, DefinitionError, PlacementService, Role, ServiceNeeds } from './types.js';

export type How = 'pinned' | 'kept' | 'new' | 'promoted' | 'frozen';

export interface Instance {
  server: number;
  role: Role;
  how: How;
  need: ServiceNeeds;
  /** The service already has data on this server, so no disk is booked. */
  here: boolean;
  /** Booked into the score's load: the instance is not running there yet. */
  counted: boolean;
  reason: string;
  score: number;
}

export interface ServiceState {
  name: string;
  /** Position in name order. */
  index: number;
  def: PlacementService;
  /** Undefined for a frozen service. */
  unit: Unit | undefined;
  /** The service it runs `with`, when that is not frozen. */
  parent: ServiceState | undefined;
  /** Why it is frozen. */
  frozen: string | undefined;
  replicaCount: number;
  primaryNeed: ServiceNeeds;
  replicaNeed: ServiceNeeds;
  /** Bits of PROFILES; 0 means no preference. */
  prefers: number;
  candidates: Candidates | undefined;
  current: CurrentPlacement | undefined;
  primary: Instance | undefined;
  replicas: Instance[];
  /** Why each current instance that is not kept was dropped, by `droppedKey`. */
  dropped: Map<string, string> | undefined;
  unplaceable: { role: Role; reason: string }[] | undefined;
}

export interface Unit {
  root: ServiceState;
  /** Root first, then by depth and name. */
  members: ServiceState[];
  /** Server index of the members' primaries, -1 until decided. */
  home: number;
  /** The members' primary needs summed. */
  size: ServiceNeeds;
  /** A member has a pin. */
  pinned: boolean;
}

export interface Model {
  /** Biggest first: memory, then CPU, then disk, then name. */
  units: Unit[];
  /** The units with a pin, in the same order. */
  pinned: Unit[];
  states: ServiceState[];
  errors: DefinitionError[];
  /** Current placements of services the snapshot no longer defines. */
  orphans: CurrentPlacement[];
}

const compareNames = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function droppedKey(server: string, role: Role): string {
  return `${role}\u0000${server}`;
}

/** Position of `name` in `defs` (in name order), or -1. */
function indexOfName(defs: readonly PlacementService[], name: string): number {
  let lo = 0;
  let hi = defs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = (defs[mid] as PlacementService).name;
    if (at === name) return mid;
    if (at < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** A copy in name order; readers usually give names in order already, and checking is cheaper than sorting. */
function sortedBy<T>(items: readonly T[], name: (item: T) => string): T[] {
  let sorted = true;
  for (let i = 1; i < items.length && sorted; i++) sorted = compareNames(name(items[i - 1] as T), name(items[i] as T)) <= 0;
  return sorted ? [...items] : [...items].sort((a, b) => compareNames(name(a), name(b)));
}

export function setDropped(state: ServiceState, server: string, role: Role, why: string): void {
  state.dropped ??= new Map();
  state.dropped.set(droppedKey(server, role), why);
}

export function addUnplaceable(state: ServiceState, role: Role, reason: string): void {
  (state.unplaceable ??= []).push({ role, reason });
}

export function getDropped(state: ServiceState, server: string, role: Role): string | undefined {
  return state.dropped?.get(droppedKey(server, role));
}

export function buildModel(services: readonly PlacementService[], current: readonly CurrentPlacement[], fleet: Fleet): Model {
  const defs = sortedBy(services, (x) => x.name);
  const currents = sortedBy(current, (x) => x.service);
  const n = defs.length;
  const states: ServiceState[] = new Array<ServiceState>(n);
  const orphans: CurrentPlacement[] = [];
  const own = new Map<number, string>();
  const parent = new Int32Array(n).fill(-1);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const def = defs[i] as PlacementService;
    if (i > 0 && (defs[i - 1] as PlacementService).name === def.name) throw new Error(`placement snapshot lists service ${def.name} twice`);
    while (c < currents.length && compareNames((currents[c] as CurrentPlacement).service, def.name) < 0) orphans.push(currents[c++] as CurrentPlacement);
    const mine = c < currents.length && (currents[c] as CurrentPlacement).service === def.name ? currents[c++] : undefined;
    if (mine && c < currents.length && (currents[c] as CurrentPlacement).service === def.name) {
      throw new Error(`placement snapshot lists the current placement of ${def.name} twice`);
    }
    states[i] = newState(def, i, mine);
    const { on, notOn, affinity } = def;
    const onError = on === undefined ? undefined : fleet.selectorError(on);
    const notOnError = notOn === undefined ? undefined : fleet.selectorError(notOn);
    const target = affinity?.with === undefined ? -1 : indexOfName(defs, affinity.with);
    parent[i] = target;
    if (onError === undefined && notOnError === undefined && (affinity?.with === undefined || target >= 0)) continue;
    const problems: string[] = [];
    if (onError !== undefined) problems.push(`on: ${onError}`);
    if (notOnError !== undefined) problems.push(`not_on: ${notOnError}`);
    if (affinity?.with !== undefined && target < 0) problems.push(`affinity with ${JSON.stringify(affinity.with)}: no such service`);
    own.set(i, `${def.name}: ${problems.join('; ')}`);
  }
  while (c < currents.length) orphans.push(currents[c++] as CurrentPlacement);
  for (let k = 1; k < orphans.length; k++) {
    if ((orphans[k] as CurrentPlacement).service === (orphans[k - 1] as CurrentPlacement).service) {
      throw new Error(`placement snapshot lists the current placement of ${(orphans[k] as CurrentPlacement).service} twice`);
    }
  }
  for (const cycle of findCycles(parent)) {
    const path = [...cycle, cycle[0] as number].map((i) => (states[i] as ServiceState).name).join(' → ');
    for (const i of cycle) {
      own.set(i, `${(states[i] as ServiceState).name}: affinity cycle: ${path}`);
      parent[i] = -1;
    }
  }

  // Roots and depths along `with`, parents first; frozen spreads from a broken service to those that run with it.
  const root = new Int32Array(n).fill(-1);
  const depth = new Int32Array(n);
  const errors: DefinitionError[] = [];
  const chain: number[] = [];
  for (let start = 0; start < n; start++) {
    for (let i = start; i >= 0 && root[i] === -1 && (states[i] as ServiceState).frozen === undefined; i = parent[i] as number) chain.push(i);
    while (chain.length > 0) {
      const i = chain.pop() as number;
      const s = states[i] as ServiceState;
      const p = parent[i] as number;
      const ownError = own.get(i);
      if (ownError !== undefined) s.frozen = ownError;
      else if (p < 0) root[i] = i;
      else if ((states[p] as ServiceState).frozen !== undefined) s.frozen = `${s.name}: left unchanged: it runs with ${(states[p] as ServiceState).name}, which is left unchanged`;
      else {
        root[i] = root[p] as number;
        depth[i] = (depth[p] as number) + 1;
        s.parent = states[p];
      }
      if (s.frozen !== undefined) errors.push({ service: s.name, reason: s.frozen });
    }
  }

  // Units in their roots' name order; members join in name order and are sorted by depth below.
  const units: Unit[] = [];
  const unitOf: (Unit | undefined)[] = new Array<Unit | undefined>(n);
  for (const s of states) {
    if (root[s.index] !== s.index) continue;
    const unit: Unit = { root: s, members: [s], home: -1, size: s.primaryNeed, pinned: false };
    unitOf[s.index] = unit;
    units.push(unit);
  }
  for (const s of states) {
    const r = root[s.index] as number;
    if (r < 0) continue;
    const unit = unitOf[r] as Unit;
    if (unit.root !== s) {
      unit.members.push(s);
      const { size } = unit;
      unit.size = { memoryMb: size.memoryMb + s.primaryNeed.memoryMb, cpu: size.cpu + s.primaryNeed.cpu, diskGb: size.diskGb + s.primaryNeed.diskGb };
    }
    s.unit = unit;
    if (s.def.pins) unit.pinned = true;
    s.candidates = fleet.candidates(s.def.on, s.def.notOn, s.def.affinity?.mount);
  }
  for (const unit of units) {
    if (unit.members.length > 1) unit.members.sort((a, b) => (depth[a.index] as number) - (depth[b.index] as number) || a.index - b.index);
  }
  const ordered = biggestFirst(units);
  const pinned = ordered.filter((u) => u.pinned);
  errors.sort((a, b) => compareNames(a.service, b.service));
  return { units: ordered, pinned, states, errors, orphans };
}

/**
 * First fit, biggest first: memory, then CPU, then disk, then name. Sizes are few and units
 * many, so units go into a bucket per size (keeping their name order) and only the sizes are
 * sorted.
 */
function biggestFirst(units: readonly Unit[]): Unit[] {
  const buckets = new Map<number, Map<number, Map<number, Unit[]>>>();
  for (const u of units) {
    const { memoryMb, cpu, diskGb } = u.size;
    let byCpu = buckets.get(memoryMb);
    if (!byCpu) buckets.set(memoryMb, (byCpu = new Map()));
    let byDisk = byCpu.get(cpu);
    if (!byDisk) byCpu.set(cpu, (byDisk = new Map()));
    let bucket = byDisk.get(diskGb);
    if (!bucket) byDisk.set(diskGb, (bucket = []));
    bucket.push(u);
  }
  const out: Unit[] = [];
  const descending = <T>(map: Map<number, T>) => [...map.entries()].sort((a, b) => b[0] - a[0]).map(([, v]) => v);
  for (const byCpu of descending(buckets)) {
    for (const byDisk of descending(byCpu)) {
      for (const bucket of descending(byDisk)) for (const u of bucket) out.push(u);
    }
  }
  return out;
}

function newState(def: PlacementService, index: number, current: CurrentPlacement | undefined): ServiceState {
  let prefers = 0;
  for (const p of def.prefers ?? []) {
    const bit = PROFILES.indexOf(p);
    if (bit >= 0) prefers |= 1 << bit;
  }
  return {
    name: def.name, index, def, unit: undefined, parent: undefined, frozen: undefined,
    replicaCount: Math.max(Math.floor(def.replicas ?? 0), def.pins?.replicas?.length ?? 0, 0),
    primaryNeed: def.needs,
    replicaNeed: def.singleWriter ? { memoryMb: def.needs.memoryMb, cpu: 0, diskGb: def.needs.diskGb } : def.needs,
    prefers, candidates: undefined, current,
    primary: undefined, replicas: [], dropped: undefined, unplaceable: undefined,
  };
}

/** Cycles of the `with` relation (`parent`), each listed from its smallest index. */
function findCycles(parent: Int32Array): number[][] {
  const n = parent.length;
  // 0 unvisited, 1 on the walk in progress, 2 done.
  const mark = new Uint8Array(n);
  const cycles: number[][] = [];
  const path: number[] = [];
  for (let start = 0; start < n; start++) {
    if (mark[start] !== 0) continue;
    if (parent[start] === -1) {
      mark[start] = 2;
      continue;
    }
    path.length = 0;
    let i = start;
    while (i >= 0 && mark[i] === 0) {
      mark[i] = 1;
      path.push(i);
      i = parent[i] as number;
    }
    if (i >= 0 && mark[i] === 1) {
      const cycle = path.slice(path.indexOf(i));
      const first = cycle.indexOf(Math.min(...cycle));
      cycles.push([...cycle.slice(first), ...cycle.slice(0, first)]);
    }
    for (const j of path) mark[j] = 2;
  }
  return cycles;
}
