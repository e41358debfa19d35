/**
 * The placement engine: `plan(snapshot)` decides, for every service, a primary and its replicas.
 *
 * Order of decisions. Units (a service and those that run `with` it) go biggest first (memory,
 * then CPU, then disk, then name), and every pass walks them in that order:
 *   0. services with a broken definition stay exactly where they are, and keep their booking;
 *   1. pins: the inventory's `primary` / `replicas`, when the server may take them;
 *   2. keep: every current instance that is still allowed and still fits stays;
 *   3. fill: what is missing is placed — a primary on the best server (one holding a replica
 *      first: a promotion moves no data), then new replicas, each in a location the service does
 *      not use yet when one has room.
 * Pins are booked before anything kept, kept instances before anything new, and nothing booked
 * is given back (a promotion trades a replica's booking for the primary's, on the same server):
 * a service whose primary cannot be placed keeps its replicas, which hold its data, and its
 * placement's primary is null. So a change moves only what it must: after losing a
 * server only what ran there moves, after adding one nothing moves, and planning again what was
 * planned moves nothing.
 *
 * Pins versus constraints: hard constraints always hold. A pin that would break one — the server
 * is unknown, draining, unhealthy, outside `on`/`not_on`, without the mount, or full — is not
 * honoured: it is reported in `conflicts` with the reason, and the service is placed by the
 * usual rules (so a pinned primary on a dead box fails over, and moves back when the box
 * returns). A unit's home follows the first member's primary pin (the root's first).
 *
 * Hard constraints: `on` / `not_on`, the affinity mount, health and draining (fleet.ts), capacity
 * (ledger.ts), a replica never on its primary's server nor beside another replica, and a unit's
 * primaries on one server. Soft: preferred profiles, free CPU and memory (the score, ranking.ts),
 * location spread for replicas. Ties go to the first server by name: no randomness, no clock,
 * and the input's order does not matter.
 */
import { noServerReason } from './explain.js';
import { indexFleet } from './fleet.js';
import { assign, chooseHome, fillReplicas, holdsReplica, unassign, type Planner } from './choose.js';
import { book, newLedger, refusal, refusalAt, runsCurrently } from './ledger.js';
import { addUnplaceable, buildModel, setDropped, type How, type ServiceState, type Unit } from './model.js';
import { assemble } from './result.js';
import type { PlacementSnapshot, PlanResult, Role } from './types.js';

export function plan(snapshot: PlacementSnapshot): PlanResult {
  const fleet = indexFleet(snapshot.servers);
  const model = buildModel(snapshot.services, snapshot.current ?? [], fleet);
  const p: Planner = { fleet, ledger: newLedger(fleet), model, conflicts: [] };
  bookFrozen(p);
  for (const unit of model.pinned) applyPins(p, unit);
  const open = model.units.filter((unit) => !keepCurrent(p, unit));
  for (const unit of open) fill(p, unit);
  return assemble(p);
}

function bookFrozen({ fleet, ledger, model }: Planner): void {
  for (const state of model.states) {
    if (state.frozen === undefined || !state.current) continue;
    const { primary, replicas } = state.current;
    const instances: [string | null, Role][] = [[primary, 'primary'], ...replicas.map((r): [string, Role] => [r, 'replica'])];
    for (const [server, role] of instances) {
      const s = server === null ? undefined : fleet.index.get(server);
      if (s === undefined) continue;
      const need = role === 'primary' ? state.primaryNeed : state.replicaNeed;
      book(fleet, ledger, { server: s, role, how: 'frozen', need, here: true, counted: false, reason: '', score: 0 });
    }
  }
}

function conflict(p: Planner, state: ServiceState, role: Role, server: string, reason: string): void {
  p.conflicts.push({ service: state.name, role, server, reason: `${state.name}: ${role} pinned to ${server} not honoured: ${reason}` });
}

/**
 * A unit's home follows the first primary pin among its members that the root (and the pinned
 * member) may take. A pinned member is placed here only once the service it runs with is;
 * otherwise it waits for the later passes, which place members after their targets.
 */
function applyPins(p: Planner, unit: Unit): void {
  const { fleet, ledger } = p;
  const { root } = unit;
  for (const m of unit.members) {
    const pin = m.def.pins?.primary;
    if (pin === undefined) continue;
    if (unit.home < 0) {
      const rootWhy = refusal(fleet, ledger, root, pin, 'primary');
      if (rootWhy !== undefined) {
        conflict(p, m, 'primary', pin, m === root ? rootWhy : `${root.name}, which it runs with, cannot run there: ${rootWhy}`);
        continue;
      }
      const s = fleet.index.get(pin) as number;
      const rootHow: How = m === root ? 'pinned' : runsCurrently(root, 'primary', pin) ? 'kept' : 'new';
      const placed = assign(p, root, 'primary', s, rootHow, m === root ? undefined : { note: `${m.name} is pinned there` });
      const why = m === root ? undefined : refusal(fleet, ledger, m, pin, 'primary');
      if (why !== undefined) {
        unassign(p, root, placed);
        conflict(p, m, 'primary', pin, why);
        continue;
      }
      unit.home = s;
      if (m === root) continue;
    }
    const home = fleet.names[unit.home] as string;
    if (m === root || m.primary) continue;
    if (pin !== home) conflict(p, m, 'primary', pin, `it runs with ${root.name}, which is on ${home}`);
    else if (m.parent?.primary) {
      const why = refusal(fleet, ledger, m, pin, 'primary');
      if (why !== undefined) conflict(p, m, 'primary', pin, why);
      else assign(p, m, 'primary', unit.home, 'pinned', { withRoot: root.name });
    }
  }
  for (const m of unit.members) {
    for (const pin of m.def.pins?.replicas ?? []) {
      const why = refusal(fleet, ledger, m, pin, 'replica');
      if (why !== undefined) conflict(p, m, 'replica', pin, why);
      else assign(p, m, 'replica', fleet.index.get(pin) as number, 'pinned');
    }
  }
}

/**
 * Current instances that are still allowed and fit stay: primaries first, then replicas in their
 * order, up to the count. Says whether the unit is complete, with nothing left to fill.
 */
function keepCurrent(p: Planner, unit: Unit): boolean {
  const { fleet, ledger } = p;
  const { root } = unit;
  for (const m of unit.members) {
    const current = m.current?.primary ?? null;
    if (m.primary || current === null) continue;
    // A member stays only at its unit's home, after the service it runs with.
    const s = fleet.index.get(current);
    if (s === undefined) {
      setDropped(m, current, 'primary', `${current} is not in the fleet`);
      continue;
    }
    const why = m !== root && unit.home >= 0 && unit.home !== s
      ? `it runs with ${root.name}, which is on ${fleet.names[unit.home] as string}`
      : refusalAt(fleet, ledger, m, s, 'primary', true);
    if (why !== undefined) {
      setDropped(m, current, 'primary', why);
      continue;
    }
    if (m !== root && (unit.home < 0 || !m.parent?.primary)) continue;
    assign(p, m, 'primary', s, 'kept', m === root ? undefined : { withRoot: root.name });
    if (m === root) unit.home = s;
  }
  for (const m of unit.members) {
    for (const server of m.current?.replicas ?? []) {
      const s = fleet.index.get(server);
      if (s === undefined) {
        setDropped(m, server, 'replica', `${server} is not in the fleet`);
        continue;
      }
      if (holdsReplica(m, s)) continue;
      const why = m.replicas.length >= m.replicaCount
        ? `${m.name} wants ${m.replicaCount} ${m.replicaCount === 1 ? 'replica' : 'replicas'}`
        : refusalAt(fleet, ledger, m, s, 'replica', true);
      if (why !== undefined) setDropped(m, server, 'replica', why);
      else assign(p, m, 'replica', s, 'kept');
    }
  }
  return unit.members.every((m) => m.primary && m.replicas.length >= m.replicaCount);
}

/** Places what is missing: the unit's home if open, members at home after their targets, then new replicas. */
function fill(p: Planner, unit: Unit): void {
  const { fleet, ledger } = p;
  const { root } = unit;
  if (unit.home < 0) {
    const s = chooseHome(p, unit);
    if (s < 0) {
      addUnplaceable(root, 'primary', `${root.name}: ${noServerReason(fleet, ledger, root, 'primary')}`);
      for (const m of unit.members) {
        if (m !== root) addUnplaceable(m, 'primary', `${m.name}: it runs with ${m.parent?.name ?? root.name}, which could not be placed`);
      }
      return;
    }
    unit.home = s;
    assign(p, root, 'primary', s, 'new');
  }
  const home = fleet.names[unit.home] as string;
  for (const m of unit.members) {
    if (m.primary) continue;
    const parent = m.parent as ServiceState;
    const why = parent.primary ? refusal(fleet, ledger, m, home, 'primary') : undefined;
    if (!parent.primary) addUnplaceable(m, 'primary', `${m.name}: it runs with ${parent.name}, which could not be placed`);
    else if (why !== undefined) addUnplaceable(m, 'primary', `${m.name}: it must run with ${root.name} on ${home}, but ${why}`);
    else assign(p, m, 'primary', unit.home, m.def.pins?.primary === home ? 'pinned' : 'new', { withRoot: root.name });
  }
  for (const m of unit.members) fillReplicas(p, m);
}
