/**
 * The score, and the search for the best-scoring server without scoring the whole fleet.
 *
 *   score = 0.40 × preferred + 0.35 × CPU free + 0.25 × memory free
 *
 * preferred is 1 on a profile the service prefers (or when it prefers none), else 0. The free
 * fractions are measured (the last heartbeat) minus what this plan adds, after placing the
 * candidate; they are not clamped while ranking, so of two overloaded servers the less loaded
 * ranks higher. Reported scores are clamped to 0..1.
 *
 * Search: servers that take new instances sit in buckets by profile and size class (cores and
 * memory within ~19% of each other), each sorted by `base` — the score's load part now. A
 * newcomer's score on a server is `base` minus a penalty that grows with its needs and shrinks
 * with the server's size, so `weight + base − (penalty at the bucket's biggest server)` bounds
 * every later server in the bucket: the walk stops there. A placement looks at a handful of
 * servers per bucket instead of the whole fleet, and picks exactly what a full scan would.
 * Every comparison uses the same arithmetic expressions, so the bound holds in floating point.
 */
import type { Fleet } from './fleet.js';
import type { ServiceState } from './model.js';
import type { ServiceNeeds } from './types.js';

interface Bucket {
  profileBit: number;
  list: Int32Array;
  /** The smallest 1/cores and 1/MB in the bucket: the smallest penalty any of its servers gives. */
  minPerCore: number;
  minPerMb: number;
}

export interface Ranking {
  /** The score's load part now, per server. */
  base: Float64Array;
  buckets: Bucket[];
  bucketOf: Int32Array;
  position: Int32Array;
}

const sizeClass = (n: number) => (n > 0 ? Math.floor(Math.log2(n) * 4) : -1);

export function newRanking(fleet: Fleet, addedCpu: Float64Array, addedMemoryMb: Float64Array): Ranking {
  const size = fleet.size;
  const base = new Float64Array(size);
  const groups = new Map<string, number[]>();
  for (let s = 0; s < size; s++) {
    base[s] = baseOf(fleet, addedCpu, addedMemoryMb, s);
    if (fleet.takesNew[s] !== 1) continue;
    const key = `${fleet.profileBit[s] as number}/${sizeClass(fleet.cpuCores[s] as number)}/${sizeClass(fleet.memoryMb[s] as number)}`;
    const group = groups.get(key) ?? [];
    group.push(s);
    groups.set(key, group);
  }
  const bucketOf = new Int32Array(size).fill(-1);
  const position = new Int32Array(size).fill(-1);
  const buckets = [...groups.keys()].sort().map((key, b): Bucket => {
    const members = (groups.get(key) as number[]).sort((x, y) => ahead(base, x, y));
    members.forEach((s, i) => {
      bucketOf[s] = b;
      position[s] = i;
    });
    return {
      profileBit: fleet.profileBit[members[0] as number] as number,
      list: Int32Array.from(members),
      minPerCore: Math.min(...members.map((s) => fleet.perCore[s] as number)),
      minPerMb: Math.min(...members.map((s) => fleet.perMb[s] as number)),
    };
  });
  return { base, buckets, bucketOf, position };
}

function baseOf(fleet: Fleet, addedCpu: Float64Array, addedMemoryMb: Float64Array, s: number): number {
  return 0.35 * ((fleet.cpuFree[s] as number) - (addedCpu[s] as number) * (fleet.perCore[s] as number))
    + 0.25 * ((fleet.memoryFree[s] as number) - (addedMemoryMb[s] as number) * (fleet.perMb[s] as number));
}

/** Negative when `a` ranks before `b`: higher base, then lower index (name). */
function ahead(base: Float64Array, a: number, b: number): number {
  const d = (base[b] as number) - (base[a] as number);
  return d !== 0 ? d : a - b;
}

/** After the plan's added load on `s` changed: its new base, and its new place in its bucket. */
export function rerank(fleet: Fleet, ranking: Ranking, addedCpu: Float64Array, addedMemoryMb: Float64Array, s: number): void {
  const { base, position } = ranking;
  base[s] = baseOf(fleet, addedCpu, addedMemoryMb, s);
  const b = ranking.bucketOf[s] as number;
  if (b < 0) return;
  const list = (ranking.buckets[b] as Bucket).list;
  let at = position[s] as number;
  while (at + 1 < list.length && ahead(base, list[at + 1] as number, s) < 0) {
    const next = list[at + 1] as number;
    list[at] = next;
    position[next] = at;
    at++;
  }
  while (at > 0 && ahead(base, list[at - 1] as number, s) > 0) {
    const prev = list[at - 1] as number;
    list[at] = prev;
    position[prev] = at;
    at--;
  }
  list[at] = s;
  position[s] = at;
}

export function preferredBit(state: ServiceState, bit: number): boolean {
  return state.prefers === 0 || ((state.prefers >> bit) & 1) === 1;
}

/** The score of server `s` for `state`, with `extra` needs added to what is booked there. */
export function score(fleet: Fleet, ranking: Ranking, state: ServiceState, s: number, extra: ServiceNeeds | undefined): number {
  const weight = preferredBit(state, fleet.profileBit[s] as number) ? 0.4 : 0;
  if (!extra) return weight + (ranking.base[s] as number);
  return weight + ((ranking.base[s] as number) - (0.35 * extra.cpu * (fleet.perCore[s] as number) + 0.25 * extra.memoryMb * (fleet.perMb[s] as number)));
}

/**
 * The server with the highest score for `state` with `extra` added, among those `admit` lets
 * through, then the first by name; -1 when none.
 */
export function bestServer(fleet: Fleet, ranking: Ranking, state: ServiceState, extra: ServiceNeeds, admit: (s: number) => boolean): number {
  let best = -1;
  let bestScore = -Infinity;
  const { base, buckets } = ranking;
  for (const wanted of [true, false]) {
    for (const bucket of buckets) {
      const isPreferred = preferredBit(state, bucket.profileBit);
      if (isPreferred !== wanted) continue;
      const weight = isPreferred ? 0.4 : 0;
      const least = 0.35 * extra.cpu * bucket.minPerCore + 0.25 * extra.memoryMb * bucket.minPerMb;
      const { list } = bucket;
      for (let k = 0; k < list.length; k++) {
        const s = list[k] as number;
        if (weight + ((base[s] as number) - least) < bestScore) break;
        if (!admit(s)) continue;
        const sc = weight + ((base[s] as number) - (0.35 * extra.cpu * (fleet.perCore[s] as number) + 0.25 * extra.memoryMb * (fleet.perMb[s] as number)));
        if (sc > bestScore || (sc === bestScore && s < best)) {
          best = s;
          bestScore = sc;
        }
      }
    }
  }
  return best;
}

