/**
 * Placement: which server runs each service's primary and replicas, and why. Pure: a snapshot
 * in, a plan out (see plan.ts for the rules, ledger.ts for capacity and the score).
 */
export { plan } from './plan.js';
export { reasonLine } from './result.js';
export type {
  CurrentPlacement, DefinitionError, Move, PinConflict, Placement, PlacementHealth, PlacementReason, PlacementServer,
  PlacementService, PlacementSnapshot, PlanResult, Role, ServiceNeeds, Unplaceable,
} from './types.js';
