/**
 * The planner's state as a `PlanResult`: placements with their reasons, what could not be
 * placed, and the moves against the current placement, each with why.
 */
import { getDropped, type Instance, type ServiceState } from './model.js';
import type { Planner } from './choose.js';
import type { Move, Placement, PlacementReason, PlanResult, Role, Unplaceable } from './types.js';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A reason as one line for people: "jellyfin primary → eden: hardware transcoding (intel-quicksync), 62% CPU free, …, score 0.81". */
export function reasonLine(service: string, reason: PlacementReason): string {
  return `${service} ${reason.role} → ${reason.server}: ${reason.reason}`;
}

export function assemble({ fleet, model, conflicts }: Planner): PlanResult {
  const placements: Placement[] = [];
  const unplaceable: Unplaceable[] = [];
  const moves: Move[] = [];
  for (const state of model.states) {
    if (state.frozen !== undefined) {
      const current = state.current;
      if (current && (current.primary !== null || current.replicas.length > 0)) placements.push(frozenPlacement(state, current.primary, current.replicas));
      continue;
    }
    if (state.primary || state.replicas.length > 0) {
      const reasons: PlacementReason[] = state.primary ? [reasonOf(state.primary, fleet.names)] : [];
      const replicas: string[] = [];
      for (const r of state.replicas) {
        replicas.push(fleet.names[r.server] as string);
        reasons.push(reasonOf(r, fleet.names));
      }
      placements.push({ service: state.name, primary: state.primary ? (fleet.names[state.primary.server] as string) : null, replicas, reasons });
    }
    for (const u of state.unplaceable ?? []) unplaceable.push({ service: state.name, role: u.role, reason: u.reason });
    movesOf(state, fleet.names, moves);
  }
  for (const orphan of model.orphans) {
    const why = `${orphan.service} is no longer defined`;
    if (orphan.primary !== null) moves.push({ service: orphan.service, role: 'primary', from: orphan.primary, to: null, why });
    for (const r of orphan.replicas) moves.push({ service: orphan.service, role: 'replica', from: r, to: null, why });
  }
  conflicts.sort((a, b) => compare(a.service, b.service) || compare(a.role, b.role) || compare(a.server, b.server));
  return { placements, unplaceable, moves, conflicts, errors: model.errors };
}

function frozenPlacement(state: ServiceState, primary: string | null, replicas: readonly string[]): Placement {
  const reason = (server: string, role: Role): PlacementReason => ({
    server, role, reason: 'left unchanged, as its definition has errors', score: 0,
  });
  return {
    service: state.name, primary, replicas: [...replicas],
    reasons: [...(primary === null ? [] : [reason(primary, 'primary')]), ...replicas.map((r) => reason(r, 'replica'))],
  };
}

function movesOf(state: ServiceState, names: readonly string[], moves: Move[]): void {
  const from = state.current?.primary ?? null;
  const to = state.primary ? (names[state.primary.server] as string) : null;
  if (from !== to) {
    let why: string;
    if (from === null) why = `${state.name} is not placed yet`;
    else {
      why = getDropped(state, from, 'primary')
        ?? (state.primary?.how === 'pinned' ? `pinned to ${to ?? ''}` : undefined)
        ?? (to !== null && state.unit && state.unit.root !== state ? `it runs with ${state.unit.root.name}, which moved to ${to}` : undefined)
        ?? unplacedReason(state, 'primary') ?? 'moved';
    }
    moves.push({ service: state.name, role: 'primary', from, to, why });
  }
  const before = state.current?.replicas ?? [];
  if (sameServers(before, state.replicas, names)) return;
  const after = state.replicas.map((r) => names[r.server] as string);
  const removed = before.filter((r) => !after.includes(r));
  const added = after.filter((r) => !before.includes(r));
  for (let i = 0; i < Math.max(removed.length, added.length); i++) {
    const out = removed[i] ?? null;
    const into = added[i] ?? null;
    let why: string;
    if (out === null) why = `${state.name} wants ${state.replicaCount} ${state.replicaCount === 1 ? 'replica' : 'replicas'}`;
    else why = getDropped(state, out, 'replica') ?? (out === to ? `${out} became the primary` : undefined) ?? unplacedReason(state, 'replica') ?? 'moved';
    moves.push({ service: state.name, role: 'replica', from: out, to: into, why });
  }
}

function unplacedReason(state: ServiceState, role: Role): string | undefined {
  return state.unplaceable?.find((u) => u.role === role)?.reason;
}

function reasonOf(i: Instance, names: readonly string[]): PlacementReason {
  return { server: names[i.server] as string, role: i.role, reason: i.reason, score: reported(i.score) };
}

function sameServers(before: readonly string[], after: readonly Instance[], names: readonly string[]): boolean {
  if (before.length !== after.length) return false;
  for (let k = 0; k < before.length; k++) if (before[k] !== names[(after[k] as Instance).server]) return false;
  return true;
}

/** Scores as reported: two decimals, clamped to 0..1 (ranking uses them unclamped). */
function reported(score: number): number {
  return Math.min(1, Math.max(0, Math.round(score * 100) / 100));
}
