/**
 * What the placement engine takes and what it returns. A reader builds a `PlacementSnapshot`
 * from the inventory, agent facts and heartbeats; `plan` turns it into a `PlanResult`, which an
 * applier carries out. Feeding `result.placements` back as the next snapshot's `current` is the
 * intended loop.
 */
import type { HardwareProfile } from '../agent/profile.js';
import type { HealthState } from '../controller/health.js';
import type { HEALTH_STATES } from '../inventory/schema.js';

/** The health machine's states plus the inventory's status values (`degraded`). */
export type PlacementHealth = HealthState | (typeof HEALTH_STATES)[number];

export interface PlacementServer {
  name: string;
  /** The effective hardware profile (see agent/profile.ts). */
  profile: HardwareProfile;
  health: PlacementHealth;
  /** A draining server keeps nothing and takes nothing. */
  draining?: boolean;
  tags?: readonly string[];
  labels?: Readonly<Record<string, string>>;
  /** Resolved group memberships, for `group:` selectors. */
  groups?: readonly string[];
  location?: string;
  /** Further selector fields. */
  fields?: Readonly<Partial<Record<'role' | 'hardware_type' | 'hostname' | 'address', string>>>;
  /**
   * What the server offers services: total memory and cores (declared needs are booked against
   * these), and disk free now (only services new to the server are booked against it: the data
   * of those already there is already out of it).
   */
  capacity: { memoryMb: number; cpuCores: number; diskFreeGb: number };
  /** Measured load from the last heartbeat. It sways the score only; absent means idle. */
  load?: { cpuPercent: number; memoryUsedMb: number };
  /** Media mounts and whether each is healthy (mounted, readable). */
  mounts?: readonly { path: string; healthy: boolean }[];
}

export interface ServiceNeeds {
  memoryMb: number;
  /** CPU cores (fractions allowed). */
  cpu: number;
  diskGb: number;
}

export interface PlacementService {
  name: string;
  needs: ServiceNeeds;
  /** Replicas wanted besides the primary; at least as many as `pins.replicas` lists. Default 0. */
  replicas?: number;
  /**
   * Only one instance may write its data (SQLite *arr apps): replicas are standbys, booked for
   * memory and disk (so a failover fits) but not CPU.
   */
  singleWriter?: boolean;
  /** Selectors in the inventory's syntax (inventory/selector.ts): run only where `on` matches, never where `notOn` matches. */
  on?: string;
  notOn?: string;
  /** Profiles this service runs best on (e.g. hardware transcoding); a soft preference. */
  prefers?: readonly HardwareProfile[];
  affinity?: {
    /** The primary runs on the same server as this service's primary (e.g. sonarr with transmission). */
    with?: string;
    /** Every instance needs this media mount, healthy. */
    mount?: string;
  };
  /** The original format's `services: NAME: primary / replicas`. */
  pins?: { primary?: string; replicas?: readonly string[] };
}

export interface CurrentPlacement {
  service: string;
  primary: string | null;
  replicas: readonly string[];
}

export interface PlacementSnapshot {
  servers: readonly PlacementServer[];
  services: readonly PlacementService[];
  current?: readonly CurrentPlacement[];
}

export type Role = 'primary' | 'replica';

export interface PlacementReason {
  server: string;
  role: Role;
  /**
   * Why, in words: "hardware transcoding (intel-quicksync), 62% CPU free, 55% memory free,
   * score 0.81"; `reasonLine` makes it "jellyfin primary → eden: hardware transcoding …".
   */
  reason: string;
  /** 0..1, two decimals: how good the server is for the service when it was chosen. */
  score: number;
}

export interface Placement {
  service: string;
  /** Null when no server can take the primary (see `unplaceable`): its replicas stay, as they hold its data. */
  primary: string | null;
  replicas: string[];
  reasons: PlacementReason[];
}

export interface Unplaceable {
  service: string;
  /** 'replica' when the primary is placed but fewer replicas than wanted. */
  role: Role;
  reason: string;
}

/** One change against `current`. `from: null` starts an instance, `to: null` stops one. */
export interface Move {
  service: string;
  role: Role;
  from: string | null;
  to: string | null;
  why: string;
}

/** A pin that could not be honoured; the service was placed by the usual rules instead. */
export interface PinConflict {
  service: string;
  role: Role;
  server: string;
  reason: string;
}

/** A service whose definition is broken (bad selector, unknown or circular affinity): left where it is. */
export interface DefinitionError {
  service: string;
  reason: string;
}

export interface PlanResult {
  placements: Placement[];
  unplaceable: Unplaceable[];
  moves: Move[];
  conflicts: PinConflict[];
  errors: DefinitionError[];
}
