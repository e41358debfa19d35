/**
 * The planner's moves on its state: placing an instance (booking it and saying why), and the two
 * searches — a home for a unit's primaries, and replicas for a service.
 */
import { choiceReason, noServerReason, type ChoiceContext } from './explain.js';
import type { Fleet } from './fleet.js';
import { book, dataOn, fits, promotable, runsCurrently, type Ledger } from './ledger.js';
import { addUnplaceable, type How, type Instance, type Model, type ServiceState, type Unit } from './model.js';
import { bestServer, score } from './ranking.js';
import type { PinConflict, Role } from './types.js';

export interface Planner {
  fleet: Fleet;
  ledger: Ledger;
  model: Model;
  conflicts: PinConflict[];
}

/** Books an instance of `role` on `s`. A primary where the service has a booked, unpinned replica promotes it. */
export function assign(p: Planner, state: ServiceState, role: Role, s: number, how: How, ctx?: ChoiceContext): Instance {
  const { fleet, ledger } = p;
  const promotes = role === 'primary' ? promotable(state, s) : undefined;
  if (promotes) unassign(p, state, promotes);
  // A kept instance runs there already: its data is there, and its load is in the measured load.
  const kept = how === 'kept';
  const instance: Instance = {
    server: s, role, how: promotes && how === 'new' ? 'promoted' : how,
    need: role === 'primary' ? state.primaryNeed : state.replicaNeed,
    here: kept || dataOn(fleet, state, s),
    counted: !kept && !runsCurrently(state, role, fleet.names[s] as string),
    reason: '', score: 0,
  };
  book(fleet, ledger, instance);
  instance.score = score(fleet, ledger.ranking, state, s, undefined);
  instance.reason = choiceReason(fleet, ledger, state, { role, s, how: instance.how, score: instance.score }, ctx);
  if (role === 'primary') state.primary = instance;
  else state.replicas.push(instance);
  return instance;
}

export function unassign(p: Planner, state: ServiceState, instance: Instance): void {
  book(p.fleet, p.ledger, instance, -1);
  if (state.primary === instance) state.primary = undefined;
  else state.replicas = state.replicas.filter((r) => r !== instance);
}

/** How a unit's primaries would sit on one server. */
interface HomeFit {
  server: number;
  /** Every member fits, not just the root. */
  all: boolean;
  /** Members with a replica there, which would be promoted. */
  promotions: number;
  score: number;
}

/**
 * The best server for a unit's primaries, or -1: first one where the whole unit fits (else the
 * root goes alone and the rest are reported), then the most promotions (a replica already has
 * the data), then the root's score with the unit's needs added, then name. Servers holding
 * replicas are few and weighed one by one; the rest come from the ranked search.
 */
export function chooseHome(p: Planner, unit: Unit): number {
  const { fleet, ledger } = p;
  const { root, members } = unit;
  const holders: number[] = [];
  for (const m of members) for (const r of m.replicas) if (r.how !== 'pinned' && !holders.includes(r.server)) holders.push(r.server);
  let best: HomeFit | undefined;
  for (const s of holders) {
    const fit = fitHome(p, unit, s);
    if (fit && (!best || better(fit, best))) best = fit;
  }
  if (best?.all) return best.server;
  const rootMask = root.candidates?.mask;
  const rootFits = (s: number) => rootMask?.[s] === 1 && (holders.length === 0 || !holders.includes(s)) && fitsPrimary(p, root, s);
  if (members.length > 1) {
    const found = bestServer(fleet, ledger.ranking, root, unit.size, (s) => rootFits(s) && (fitHome(p, unit, s)?.all ?? false));
    if (found >= 0) return found;
  }
  if (best) return best.server;
  return bestServer(fleet, ledger.ranking, root, root.primaryNeed, rootFits);
}

function better(a: HomeFit, b: HomeFit): boolean {
  if (a.all !== b.all) return a.all;
  if (a.promotions !== b.promotions) return a.promotions > b.promotions;
  return a.score > b.score || (a.score === b.score && a.server < b.server);
}

/** What a primary of `m` books on `s`, or undefined when its pinned replica is there. */
function primaryNeedOn(fleet: Fleet, m: ServiceState, s: number): { memoryMb: number; cpu: number; diskGb: number; here: boolean; promotes: boolean } | undefined {
  for (const r of m.replicas) {
    if (r.server !== s) continue;
    if (r.how === 'pinned') return undefined;
    return { memoryMb: m.primaryNeed.memoryMb - r.need.memoryMb, cpu: m.primaryNeed.cpu - r.need.cpu, diskGb: 0, here: true, promotes: true };
  }
  return { ...m.primaryNeed, here: dataOn(fleet, m, s), promotes: false };
}

// In the search's inner loop: no allocation unless the service has a replica on `s`.
function fitsPrimary(p: Planner, m: ServiceState, s: number): boolean {
  if (m.replicas.length > 0 && holdsReplica(m, s)) {
    const need = primaryNeedOn(p.fleet, m, s);
    return need !== undefined && fits(p.fleet, p.ledger, s, need, need.here);
  }
  return fits(p.fleet, p.ledger, s, m.primaryNeed, dataOn(p.fleet, m, s));
}

function fitHome(p: Planner, unit: Unit, s: number): HomeFit | undefined {
  const { fleet, ledger } = p;
  const { root, members } = unit;
  if (fleet.takesNew[s] !== 1 || root.candidates?.mask[s] !== 1 || !fitsPrimary(p, root, s)) return undefined;
  let memoryMb = 0;
  let cpu = 0;
  let diskGb = 0;
  let promotions = 0;
  let all = true;
  for (const m of members) {
    const need = primaryNeedOn(p.fleet, m, s);
    if (!need || (m !== root && m.candidates?.mask[s] !== 1)) {
      all = false;
      continue;
    }
    if (need.promotes) promotions++;
    memoryMb += need.memoryMb;
    cpu += need.cpu;
    if (!need.here) diskGb += need.diskGb;
  }
  if (all && members.length > 1) all = fits(fleet, ledger, s, { memoryMb, cpu, diskGb }, false);
  return { server: s, all, promotions, score: score(fleet, ledger.ranking, root, s, all ? unit.size : root.primaryNeed) };
}

/** New replicas up to the count: where the service has nothing yet, in a location it does not use yet when one has room. */
export function fillReplicas(p: Planner, m: ServiceState): void {
  if (m.replicas.length >= m.replicaCount || !m.primary) return;
  const { fleet, ledger } = p;
  const mask = m.candidates?.mask;
  const primary = m.primary.server;
  const admit = (s: number): boolean => mask?.[s] === 1 && s !== primary && !holdsReplica(m, s) && fits(fleet, ledger, s, m.replicaNeed, dataOn(fleet, m, s));
  while (m.replicas.length < m.replicaCount) {
    const used = usedLocations(fleet, m);
    let found = -1;
    let fresh = false;
    if (fleet.locations.length > used.length) {
      found = bestServer(fleet, ledger.ranking, m, m.replicaNeed, (s) => {
        const location = fleet.location[s] as number;
        return location >= 0 && !used.includes(location) && admit(s);
      });
      fresh = found >= 0;
    }
    if (found < 0) found = bestServer(fleet, ledger.ranking, m, m.replicaNeed, admit);
    if (found < 0) {
      const placed = `${m.replicas.length} of ${m.replicaCount} replicas placed`;
      addUnplaceable(m, 'replica', `${m.name}: ${placed}: ${noServerReason(fleet, ledger, m, 'replica')}`);
      return;
    }
    assign(p, m, 'replica', found, 'new', { newLocation: fresh });
  }
}

function usedLocations(fleet: Fleet, m: ServiceState): number[] {
  const used: number[] = [];
  for (const i of [m.primary, ...m.replicas]) {
    const location = i ? (fleet.location[i.server] as number) : -1;
    if (location >= 0) used.push(location);
  }
  return used;
}

export function holdsReplica(m: ServiceState, s: number): boolean {
  for (const r of m.replicas) if (r.server === s) return true;
  return false;
}
