/**
 * Reasons in plain words: why a server was chosen, and, when none could be, which constraint
 * left no server — found by narrowing the fleet one constraint at a time and naming the first
 * that leaves nothing.
 */
import type { HardwareProfile } from '../agent/profile.js';
import type { Fleet } from './fleet.js';
import { cores, cpuFreeAt, dataOn, fits, gb, mb, memoryFreeAt, needOn, type Ledger } from './ledger.js';
import { preferredBit } from './ranking.js';
import type { How, ServiceState } from './model.js';
import type { Role } from './types.js';

const TRANSCODING: ReadonlySet<string> = new Set<HardwareProfile>(['intel-quicksync', 'nvidia', 'amd-vaapi']);
const percent = (n: number) => `${Math.round(n * 100)}%`;

export interface ChoiceContext {
  /** A member of a unit placed with its root. */
  withRoot?: string;
  /** For replicas on a server with a location: whether no other instance of the service was there yet. */
  newLocation?: boolean;
  /** Anything else that decided it, e.g. "sonarr is pinned there". */
  note?: string;
}

export interface Choice {
  role: Role;
  s: number;
  how: How;
  score: number;
}

// "0.00" … "1.00", and what a kept instance says at each: every plan gives a reason for every
// instance, and most instances stay where they are, so those reasons are shared strings.
const TWO_DECIMALS = Array.from({ length: 101 }, (_, i) => (i / 100).toFixed(2));
const KEPT = TWO_DECIMALS.map((score) => `already there, score ${score}`);
const scoreIndex = (score: number) => Math.round(Math.min(1, Math.max(0, score)) * 100);

/**
 * Why an instance is where it is, e.g. "hardware transcoding (intel-quicksync), 62% CPU free,
 * 55% memory free, score 0.81" (`reasonLine` puts the service, role and server in front). An
 * instance that stays where it runs says only that: its reasons were given when it was placed.
 */
export function choiceReason(fleet: Fleet, ledger: Ledger, state: ServiceState, { role, s, how, score }: Choice, ctx?: ChoiceContext): string {
  if (how === 'kept' && ctx === undefined) return KEPT[scoreIndex(score)] as string;
  const parts: string[] = [];
  if (how === 'pinned') parts.push('pinned');
  else if (how === 'kept') parts.push('already there');
  else if (how === 'promoted') parts.push('promoted from replica');
  if (ctx?.withRoot !== undefined) parts.push(`with ${ctx.withRoot}`);
  if (ctx?.note !== undefined) parts.push(ctx.note);
  const { on, notOn, affinity } = state.def;
  if (on !== undefined) parts.push(`matches ${on}`);
  if (notOn !== undefined) parts.push(`outside ${notOn}`);
  if (affinity?.mount !== undefined) parts.push(`${affinity.mount} healthy`);
  if (state.prefers !== 0) {
    const profile = fleet.servers[s]?.profile ?? 'generic';
    if (!preferredBit(state, fleet.profileBit[s] as number)) parts.push(`not a preferred profile (${profile})`);
    else parts.push(TRANSCODING.has(profile) ? `hardware transcoding (${profile})` : `preferred profile ${profile}`);
  }
  const location = fleet.location[s] as number;
  if (role === 'replica' && location >= 0 && ctx?.newLocation !== undefined) {
    const name = fleet.locations[location] as string;
    parts.push(ctx.newLocation ? `location ${name}, not yet used by ${state.name}` : `location ${name} (every location with room already runs ${state.name})`);
  }
  if (role === 'replica' && state.def.singleWriter) parts.push('standby');
  parts.push(`${percent(cpuFreeAt(fleet, ledger, s))} CPU free`, `${percent(memoryFreeAt(fleet, ledger, s))} memory free`, `score ${TWO_DECIMALS[scoreIndex(score)] as string}`);
  return parts.join(', ');
}

interface Stage {
  keep: (s: number) => boolean;
  /** The sentence when this stage leaves nothing, given the servers it started from. */
  none: (before: number[]) => string;
  /** What the survivors have in common, appended to the description. */
  adds?: string;
}

/** Why no server can take an instance of `role` of `state`: "no healthy server with tag:storage has 200 GB disk free (most: nas-1, 120 GB)". */
export function noServerReason(fleet: Fleet, ledger: Ledger, state: ServiceState, role: Role): string {
  const { def } = state;
  const need = role === 'primary' ? state.primaryNeed : state.replicaNeed;
  let desc = 'healthy server';
  const mountPath = def.affinity?.mount;
  const mask = state.candidates?.mask;
  const onMask = def.on === undefined ? undefined : fleet.candidates(def.on, undefined, undefined).mask;
  const notOnMask = def.notOn === undefined ? undefined : fleet.candidates(undefined, def.notOn, undefined).mask;
  const most = (before: number[], value: (s: number) => number, unit: (n: number) => string): string => {
    let best = -1;
    for (const s of before) if (best < 0 || value(s) > value(best)) best = s;
    return best < 0 ? '' : ` (most: ${fleet.names[best] as string}, ${unit(value(best))})`;
  };
  const taken = [state.primary?.server, ...state.replicas.map((r) => r.server)].filter((s): s is number => s !== undefined);
  const stages: Stage[] = [
    { keep: (s) => fleet.takesNew[s] === 1, none: () => `no server is healthy and not draining (${healthCounts(fleet)})` },
    ...(onMask ? [{ keep: (s: number) => onMask[s] === 1, none: () => `no ${desc} matches ${def.on ?? ''}`, adds: ` with ${def.on ?? ''}` }] : []),
    ...(notOnMask ? [{ keep: (s: number) => notOnMask[s] === 1, none: () => `every ${desc} matches not_on ${def.notOn ?? ''}`, adds: ` and not ${def.notOn ?? ''}` }] : []),
    ...(mountPath !== undefined ? [{ keep: (s: number) => mask?.[s] === 1, none: () => `no ${desc} has a healthy ${mountPath} mount`, adds: ` with a healthy ${mountPath} mount` }] : []),
    role === 'replica'
      ? { keep: (s: number) => !taken.includes(s), none: () => `no ${desc} is left besides ${taken.map((s) => fleet.names[s]).join(', ')} (replicas never share a server with the primary or each other)` }
      : { keep: (s: number) => !state.replicas.some((r) => r.server === s && r.how === 'pinned'), none: () => `no ${desc} is left besides its pinned replicas` },
    {
      keep: (s) => fits(fleet, ledger, s, { ...needOn(state, role, s), cpu: 0, diskGb: 0 }, true),
      none: (before) => `no ${desc} has ${mb(need.memoryMb)} memory unbooked${most(before, (s) => (fleet.memoryMb[s] as number) - (ledger.memoryMb[s] as number), mb)}`,
    },
    {
      keep: (s) => fits(fleet, ledger, s, { ...needOn(state, role, s), diskGb: 0 }, true),
      none: (before) => `no ${desc} has ${cores(need.cpu)} unbooked${most(before, (s) => (fleet.cpuCores[s] as number) - (ledger.cpu[s] as number), cores)}`,
    },
    {
      keep: (s) => fits(fleet, ledger, s, needOn(state, role, s), dataOn(fleet, state, s)),
      none: (before) => `no ${desc} has ${gb(need.diskGb)} disk free${most(before, (s) => (fleet.diskFreeGb[s] as number) - (ledger.diskGb[s] as number), gb)}`,
    },
  ];
  let pool = Array.from(fleet.names, (_, i) => i);
  for (const stage of stages) {
    const next = pool.filter(stage.keep);
    if (next.length === 0) return stage.none(pool);
    if (stage.adds) desc += stage.adds;
    pool = next;
  }
  return `no ${desc} can take it`;
}

function healthCounts(fleet: Fleet): string {
  if (fleet.size === 0) return 'the fleet is empty';
  const counts = new Map<string, number>();
  for (const s of fleet.servers) {
    const key = s.draining ? 'draining' : s.health;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => `${n} ${k}`).join(', ');
}
