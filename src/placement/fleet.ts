/**
 * The servers of a snapshot as flat arrays indexed by position in name order, so the planner's
 * inner loops touch numbers, not objects, and every scan runs in the same order whatever order
 * the snapshot listed them in. Selectors are parsed and matched once per distinct text.
 *
 * Who may hold what:
 *   health                          keeps what it has   takes something new
 *   healthy                         yes                 yes
 *   degraded, suspect, unknown      yes                 no
 *   unreachable, down               no                  no
 *   draining (whatever its health)  no                  no
 * A suspect or unknown box is one whose heartbeats are late or not yet in (a controller
 * restart): moving everything off it at once would be churn the failover logic decides about.
 */
import type { HardwareProfile } from '../agent/profile.js';
import { CisternError } from '../errors.js';
import { parseSelector, selectorMatches, type SelectableServer, type Selector } from '../inventory/selector.js';
import type { PlacementServer } from './types.js';

const KEEPS = new Set(['healthy', 'degraded', 'suspect', 'unknown']);

export const PROFILES: readonly HardwareProfile[] = ['generic', 'raspberry-pi', 'intel-quicksync', 'nvidia', 'amd-vaapi'];

/** Servers that match a service's static constraints (on, not_on, mount). */
export interface Candidates {
  /** 1 where the server matches. */
  mask: Uint8Array;
}

export interface Fleet {
  size: number;
  servers: PlacementServer[];
  names: string[];
  index: ReadonlyMap<string, number>;
  takesNew: Uint8Array;
  keeps: Uint8Array;
  memoryMb: Float64Array;
  cpuCores: Float64Array;
  diskFreeGb: Float64Array;
  /** Measured free fractions, 0..1. */
  cpuFree: Float64Array;
  memoryFree: Float64Array;
  /** 1 / cores and 1 / memory (1 when the capacity is 0), so the score multiplies. */
  perCore: Float64Array;
  perMb: Float64Array;
  /** Bit index into PROFILES. */
  profileBit: Uint8Array;
  /** Index into `locations`, -1 when the server has none. */
  location: Int32Array;
  locations: string[];
  /** Candidates for a service's static constraints, computed once per distinct triple. Selectors must parse. */
  candidates(on: string | undefined, notOn: string | undefined, mount: string | undefined): Candidates;
  /** The parser's message (with its caret line) when a selector does not parse. */
  selectorError(text: string): string | undefined;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function isSortedByName(items: readonly { name: string }[]): boolean {
  for (let i = 1; i < items.length; i++) if (byName(items[i - 1] as { name: string }, items[i] as { name: string }) > 0) return false;
  return true;
}

/** Names are unique (the inventory's keys); a duplicate is the snapshot builder's bug. */
export function indexFleet(input: readonly PlacementServer[]): Fleet {
  const servers = isSortedByName(input) ? [...input] : [...input].sort(byName);
  const size = servers.length;
  const names = servers.map((s) => s.name);
  const index = new Map(names.map((name, i) => [name, i]));
  if (index.size !== size) throw new Error('placement snapshot lists a server name twice');
  const takesNew = new Uint8Array(size);
  const keeps = new Uint8Array(size);
  const memoryMb = new Float64Array(size);
  const cpuCores = new Float64Array(size);
  const diskFreeGb = new Float64Array(size);
  const cpuFree = new Float64Array(size);
  const memoryFree = new Float64Array(size);
  const perCore = new Float64Array(size);
  const perMb = new Float64Array(size);
  const profileBit = new Uint8Array(size);
  const location = new Int32Array(size);
  const locations: string[] = [];
  const locationIds = new Map<string, number>();
  servers.forEach((s, i) => {
    keeps[i] = !s.draining && KEEPS.has(s.health) ? 1 : 0;
    takesNew[i] = !s.draining && s.health === 'healthy' ? 1 : 0;
    memoryMb[i] = s.capacity.memoryMb;
    cpuCores[i] = s.capacity.cpuCores;
    diskFreeGb[i] = s.capacity.diskFreeGb;
    cpuFree[i] = clamp01(1 - (s.load?.cpuPercent ?? 0) / 100);
    memoryFree[i] = s.capacity.memoryMb > 0 ? clamp01(1 - (s.load?.memoryUsedMb ?? 0) / s.capacity.memoryMb) : 0;
    perCore[i] = s.capacity.cpuCores > 0 ? 1 / s.capacity.cpuCores : 1;
    perMb[i] = s.capacity.memoryMb > 0 ? 1 / s.capacity.memoryMb : 1;
    profileBit[i] = Math.max(0, PROFILES.indexOf(s.profile));
    if (s.location === undefined) location[i] = -1;
    else {
      let id = locationIds.get(s.location);
      if (id === undefined) {
        id = locations.length;
        locations.push(s.location);
        locationIds.set(s.location, id);
      }
      location[i] = id;
    }
  });

  let selectable: SelectableServer[] | undefined;
  const parsed = new Map<string, Selector | string>();
  const parse = (text: string): Selector | string => {
    let found = parsed.get(text);
    if (found === undefined) {
      try {
        found = parseSelector(text);
      } catch (error) {
        if (!(error instanceof CisternError)) throw error;
        found = error.message;
      }
      parsed.set(text, found);
    }
    return found;
  };
  const selectorError = (text: string): string | undefined => {
    const found = parse(text);
    return typeof found === 'string' ? found : undefined;
  };
  const selectorMasks = new Map<string, Uint8Array>();
  const selectorMask = (text: string): Uint8Array => {
    let mask = selectorMasks.get(text);
    if (!mask) {
      const selector = parse(text);
      if (typeof selector === 'string') throw new Error(`selector ${JSON.stringify(text)} used before its error was checked`);
      selectable ??= servers.map(toSelectable);
      mask = new Uint8Array(size);
      for (let i = 0; i < size; i++) mask[i] = selectorMatches(selector, selectable[i] as SelectableServer) ? 1 : 0;
      selectorMasks.set(text, mask);
    }
    return mask;
  };
  const mountMasks = new Map<string, Uint8Array>();
  const mountMask = (path: string): Uint8Array => {
    let mask = mountMasks.get(path);
    if (!mask) {
      mask = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        for (const m of (servers[i] as PlacementServer).mounts ?? []) if (m.path === path && m.healthy) mask[i] = 1;
      }
      mountMasks.set(path, mask);
    }
    return mask;
  };
  // By `on`, then `not_on`, then mount ('' for none): no key strings to build per service.
  const cache = new Map<string, Map<string, Map<string, Candidates>>>();
  const candidates = (on: string | undefined, notOn: string | undefined, mount: string | undefined): Candidates => {
    let byNotOn = cache.get(on ?? '');
    if (!byNotOn) cache.set(on ?? '', (byNotOn = new Map()));
    let byMount = byNotOn.get(notOn ?? '');
    if (!byMount) byNotOn.set(notOn ?? '', (byMount = new Map()));
    let found = byMount.get(mount ?? '');
    if (!found) {
      const onMask = on === undefined ? undefined : selectorMask(on);
      const notOnMask = notOn === undefined ? undefined : selectorMask(notOn);
      const withMount = mount === undefined ? undefined : mountMask(mount);
      const mask = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        mask[i] = (!onMask || onMask[i] === 1) && (!notOnMask || notOnMask[i] === 0) && (!withMount || withMount[i] === 1) ? 1 : 0;
      }
      found = { mask };
      byMount.set(mount ?? '', found);
    }
    return found;
  };

  return {
    size, servers, names, index, takesNew, keeps, memoryMb, cpuCores, diskFreeGb, cpuFree, memoryFree, perCore, perMb, profileBit, location, locations,
    candidates, selectorError,
  };
}

const NO_GROUPS: ReadonlySet<string> = new Set();

// One object shape for every server: selector matching reads these fields for each of them.
function toSelectable(s: PlacementServer): SelectableServer {
  const f = s.fields;
  return {
    name: s.name,
    tags: s.tags ?? [],
    groups: s.groups?.length ? new Set(s.groups) : NO_GROUPS,
    fields: { profile: s.profile, health: s.health, location: s.location, role: f?.role, hardware_type: f?.hardware_type, hostname: f?.hostname, address: f?.address },
    labels: s.labels ?? {},
  };
}

export function clamp01(n: number): number {
  return n < 0 ? 0 : n > 1 ? 1 : n;
}
