/**
 * Per-server health from agent heartbeats: a pure state machine. Time comes in as epoch ms
 * (`now`); nothing here reads a clock, sets a timer or does I/O. The controller calls
 * `onHeartbeat` when a heartbeat arrives and `onTick` when a timer set from `nextDeadline` fires.
 *
 * Silence is measured from the last heartbeat received since tracking began, or from
 * `trackedSince` if none has been. The thresholds, with "elapsed >= threshold":
 *   suspect      intervalMs * (suspectAfterMissed + 0.5): the missed heartbeats plus half an
 *                interval of jitter, so a heartbeat that is merely late is not a miss
 *   unreachable  ttlMs; from 'unknown', ttlMs + reconnectGraceMs
 *   down         downAfterMs
 * 'unknown' means no heartbeat since tracking began; it goes to 'unreachable' and then 'down'
 * (never 'suspect'), and to 'healthy' on the first heartbeat. The grace is for a controller that
 * just started: its agents are still waiting out their reconnect backoff (up to 30 s), and
 * calling them unreachable after the bare TTL would raise a false ServerDown for every box each
 * time the controller restarts.
 *
 * Contracts:
 * - A step that crosses several thresholds returns every transition in order, each stamped with
 *   the instant its threshold was crossed, not the time of the call. The result therefore does
 *   not depend on how often the controller ticks: one late tick gives the same health and the
 *   same transitions as ticking at every deadline.
 * - `onHeartbeat` first catches up as `onTick` would at the same time, so a threshold reached
 *   exactly when a heartbeat arrives is a miss, as it would be had the timer fired first.
 * - Ticks never raise a state; only heartbeats do.
 * - Time never runs backwards: a `now` earlier than the last heartbeat or transition is taken as
 *   that time.
 * - Inputs are never mutated; unchanged parts (the `recentTransitions` array, and the whole
 *   health on a tick that changes nothing) are returned as the same objects.
 * - `config` must come from `healthConfig`, which guarantees suspect < ttl < down.
 */

export type HealthState = 'unknown' | 'healthy' | 'suspect' | 'unreachable' | 'down';

export interface HealthConfig {
  intervalMs: number;
  suspectAfterMissed: number;
  ttlMs: number;
  /** Extra silence allowed to a server not heard since tracking began (controller start, registration). */
  reconnectGraceMs: number;
  downAfterMs: number;
  flap: { windowMs: number; maxTransitions: number; recoveryHeartbeats: number };
}

export type HealthConfigInput = Partial<Omit<HealthConfig, 'flap'>> & { flap?: Partial<HealthConfig['flap']> };

/**
 * The longest an agent waits between reconnect attempts (src/agent/backoff.ts DEFAULT_BACKOFF
 * maxMs; not imported, so the controller does not depend on the agent's code).
 */
export const AGENT_MAX_RECONNECT_MS = 30_000;

export interface ServerHealth {
  state: HealthState;
  /** Last heartbeat; after `startTracking(now, lastSeenAt)` the stored time, kept for display only. */
  lastHeartbeatAt: number | null;
  trackedSince: number;
  /** When `state` was entered (`trackedSince` before the first transition). */
  since: number;
  /** Times of the latest transitions inside the flap window, oldest first, at most maxTransitions + 1. */
  recentTransitions: number[];
  /** Consecutive in-time heartbeats received while held back by flap damping. */
  recoveryStreak: number;
  /** Held back by flap damping: heartbeats arrive but the state is not yet 'healthy'. */
  flapping: boolean;
}

export interface HealthTransition { from: HealthState; to: HealthState; at: number; reason: string }

export interface HealthStep {
  health: ServerHealth;
  transitions: HealthTransition[];
  /** Set when a heartbeat changed no state because of flap damping, e.g. "heartbeat received; flapping: 2 of 3 heartbeats needed". */
  note?: string;
}

export const DEFAULT_HEALTH_CONFIG: HealthConfig = Object.freeze({
  intervalMs: 5_000,
  suspectAfterMissed: 2,
  ttlMs: 15_000,
  reconnectGraceMs: AGENT_MAX_RECONNECT_MS,
  downAfterMs: 300_000,
  flap: Object.freeze({ windowMs: 600_000, maxTransitions: 4, recoveryHeartbeats: 3 }),
});

/** Silence after which a healthy server is suspect: the missed intervals plus half an interval of jitter. */
export function suspectAfterMs(config: HealthConfig): number {
  return config.intervalMs * (config.suspectAfterMissed + 0.5);
}

const TOP_KEYS = new Set(['intervalMs', 'suspectAfterMissed', 'ttlMs', 'reconnectGraceMs', 'downAfterMs', 'flap']);
const FLAP_KEYS = new Set(['windowMs', 'maxTransitions', 'recoveryHeartbeats']);

function checkNumber(field: string, value: unknown, rule: { min: number; exclusive?: boolean; integer?: boolean }): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${field}: must be a finite number, got ${String(value)}`);
  if (rule.integer && !Number.isInteger(value)) throw new Error(`${field}: must be a whole number, got ${value}`);
  if (rule.exclusive ? value <= rule.min : value < rule.min) {
    throw new Error(`${field}: must be ${rule.exclusive ? 'greater than' : 'at least'} ${rule.min}, got ${value}`);
  }
  return value;
}

function checkKeys(value: object, known: Set<string>, prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new Error(`${prefix}${key}: not a health setting (known: ${[...known].join(', ')})`);
  }
}

/**
 * Defaults merged with `partial`, validated and frozen. Throws a plain Error whose message starts
 * with the offending field, since a bad config here is a programming error.
 */
export function healthConfig(partial: HealthConfigInput = {}): HealthConfig {
  checkKeys(partial, TOP_KEYS, '');
  const flapIn: unknown = partial.flap ?? {};
  if (typeof flapIn !== 'object' || flapIn === null) throw new Error(`flap: must be an object, got ${String(flapIn)}`);
  checkKeys(flapIn, FLAP_KEYS, 'flap.');
  const flap = flapIn as Partial<HealthConfig['flap']>;
  const d = DEFAULT_HEALTH_CONFIG;
  const intervalMs = checkNumber('intervalMs', partial.intervalMs ?? d.intervalMs, { min: 0, exclusive: true });
  const suspectAfterMissed = checkNumber('suspectAfterMissed', partial.suspectAfterMissed ?? d.suspectAfterMissed, { min: 1, integer: true });
  const ttlMs = checkNumber('ttlMs', partial.ttlMs ?? d.ttlMs, { min: 0, exclusive: true });
  const downAfterMs = checkNumber('downAfterMs', partial.downAfterMs ?? d.downAfterMs, { min: 0, exclusive: true });
  // By default the agents' longest reconnect wait, but never so long that 'unknown' would skip
  // past 'down': at most half of what lies between ttl and down.
  const reconnectGraceMs = partial.reconnectGraceMs === undefined
    ? Math.max(0, Math.min(d.reconnectGraceMs, Math.floor((downAfterMs - ttlMs) / 2)))
    : checkNumber('reconnectGraceMs', partial.reconnectGraceMs, { min: 0 });
  const config: HealthConfig = {
    intervalMs, suspectAfterMissed, ttlMs, reconnectGraceMs, downAfterMs,
    flap: Object.freeze({
      windowMs: checkNumber('flap.windowMs', flap.windowMs ?? d.flap.windowMs, { min: 0, exclusive: true }),
      maxTransitions: checkNumber('flap.maxTransitions', flap.maxTransitions ?? d.flap.maxTransitions, { min: 0, integer: true }),
      recoveryHeartbeats: checkNumber('flap.recoveryHeartbeats', flap.recoveryHeartbeats ?? d.flap.recoveryHeartbeats, { min: 1, integer: true }),
    }),
  };
  const suspect = suspectAfterMs(config);
  if (ttlMs <= suspect) {
    throw new Error(`ttlMs: must be greater than the suspect threshold, intervalMs * (suspectAfterMissed + 0.5) = ${suspect} ms, got ${ttlMs}`);
  }
  if (downAfterMs <= ttlMs) throw new Error(`downAfterMs: must be greater than ttlMs (${ttlMs} ms), got ${downAfterMs}`);
  if (ttlMs + reconnectGraceMs >= downAfterMs) {
    throw new Error(`reconnectGraceMs: ttlMs + reconnectGraceMs must be less than downAfterMs (${downAfterMs} ms), got ${ttlMs} + ${reconnectGraceMs}`);
  }
  return Object.freeze(config);
}

/**
 * Health for a server the controller starts tracking now: at start-up, with the stored
 * `lastSeenAt`, or on registration. The state is 'unknown' whatever `lastSeenAt` says, so a
 * restart re-derives health from fresh heartbeats; `lastSeenAt` is kept for display (clamped
 * to just before `now` if it is not in the past) and never drives a decision.
 */
export function startTracking(now: number, lastSeenAt?: number | null): ServerHealth {
  return {
    state: 'unknown',
    // Kept before `now`: a stored time is never a heartbeat heard since tracking began.
    lastHeartbeatAt: lastSeenAt == null ? null : Math.min(lastSeenAt, now - 1),
    trackedSince: now,
    since: now,
    recentTransitions: [],
    recoveryStreak: 0,
    flapping: false,
  };
}

type Silent = 'suspect' | 'unreachable' | 'down';

/** The state a tick moves to next, and the silence that takes it there. */
const NEXT: Readonly<Record<HealthState, Silent | null>> = {
  unknown: 'unreachable', healthy: 'suspect', suspect: 'unreachable', unreachable: 'down', down: null,
};

function thresholdMs(state: Silent, config: HealthConfig, heard: boolean): number {
  if (state === 'suspect') return suspectAfterMs(config);
  if (state === 'unreachable') return heard ? config.ttlMs : config.ttlMs + config.reconnectGraceMs;
  return config.downAfterMs;
}

/** Whether a heartbeat has arrived since tracking began (a restored `lastSeenAt` is older). */
function heardSinceTracking(health: ServerHealth): boolean {
  return health.lastHeartbeatAt !== null && health.lastHeartbeatAt >= health.trackedSince;
}

/** The instant silence is measured from. */
function silentSince(health: ServerHealth): number {
  return heardSinceTracking(health) ? (health.lastHeartbeatAt as number) : health.trackedSince;
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

function silenceReason(to: Silent, silentMs: number, heard: boolean, config: HealthConfig): string {
  const rule = to === 'suspect' ? `${config.suspectAfterMissed} missed at ${seconds(config.intervalMs)} interval`
    : to === 'unreachable' ? `ttl ${seconds(config.ttlMs)}${heard || config.reconnectGraceMs === 0 ? '' : ` + ${seconds(config.reconnectGraceMs)} to reconnect`}`
      : `down after ${seconds(config.downAfterMs)}`;
  return `no heartbeat for ${(silentMs / 1000).toFixed(1)} s${heard ? '' : ' since tracking started'} (${rule})`;
}

/** Appends a transition time, keeping only the latest maxTransitions + 1: enough to tell "more than max". */
function record(times: number[], at: number, config: HealthConfig): number[] {
  const keep = config.flap.maxTransitions + 1;
  return times.length >= keep ? [...times.slice(times.length - keep + 1), at] : [...times, at];
}

/** Drops times outside the window (now - windowMs, now]; returns the same array when nothing is dropped. */
function trim(times: number[], now: number, config: HealthConfig): number[] {
  const first = times.findIndex((t) => now - t < config.flap.windowMs);
  return first === 0 || times.length === 0 ? times : first === -1 ? [] : times.slice(first);
}

/**
 * Moves the state down for silence up to `now`: each threshold crossed gives one transition,
 * stamped with the instant it was crossed. Never raises a state. Idempotent at the same `now`.
 */
export function onTick(health: ServerHealth, now: number, config: HealthConfig): HealthStep {
  const transitions: HealthTransition[] = [];
  const from = silentSince(health);
  const heard = heardSinceTracking(health);
  let { state, since, recentTransitions } = health;
  for (let next = NEXT[state]; next !== null && now - from >= thresholdMs(next, config, heard); next = NEXT[state]) {
    const at = from + thresholdMs(next, config, heard);
    transitions.push({ from: state, to: next, at, reason: silenceReason(next, at - from, heard, config) });
    // Leaving 'unknown' is the controller learning, not the server changing: not a flap.
    if (state !== 'unknown') recentTransitions = record(recentTransitions, at, config);
    state = next;
    since = at;
  }
  recentTransitions = trim(recentTransitions, now, config);
  // A streak of in-time heartbeats is broken once the silence reaches the suspect threshold.
  const recoveryStreak = now - from >= suspectAfterMs(config) ? 0 : health.recoveryStreak;
  if (transitions.length === 0 && recentTransitions === health.recentTransitions && recoveryStreak === health.recoveryStreak) {
    return { health, transitions };
  }
  return { health: { ...health, state, since, recentTransitions, recoveryStreak }, transitions };
}

/**
 * A heartbeat at `now`: catches up as `onTick(now)` would, then makes the server healthy — unless
 * it has made more than flap.maxTransitions transitions within flap.windowMs. Then it is flapping
 * and stays in its state until flap.recoveryHeartbeats consecutive heartbeats, each less than the
 * suspect threshold after the one before, have arrived (a gap equal to the threshold is a miss,
 * as in healthy → suspect).
 */
export function onHeartbeat(health: ServerHealth, now: number, config: HealthConfig): HealthStep {
  const at = Math.max(now, health.since, health.lastHeartbeatAt ?? now);
  const { health: caught, transitions } = onTick(health, at, config);
  if (caught.state === 'healthy') return { health: { ...caught, lastHeartbeatAt: at }, transitions };

  const flapping = caught.recentTransitions.length > config.flap.maxTransitions;
  const needed = config.flap.recoveryHeartbeats;
  let reason = caught.flapping && !flapping ? 'heartbeat received; no longer flapping' : 'heartbeat received';
  if (flapping) {
    const inTime = heardSinceTracking(caught) && at - (caught.lastHeartbeatAt as number) < suspectAfterMs(config);
    const streak = inTime ? caught.recoveryStreak + 1 : 1;
    if (streak < needed) {
      return {
        health: { ...caught, lastHeartbeatAt: at, recoveryStreak: streak, flapping: true },
        transitions,
        note: `heartbeat received; flapping: ${streak} of ${needed} heartbeats needed`,
      };
    }
    reason = `heartbeat received; flapping: ${needed} of ${needed} heartbeats, recovered`;
  }
  transitions.push({ from: caught.state, to: 'healthy', at, reason });
  const recentTransitions = caught.state === 'unknown' ? caught.recentTransitions : record(caught.recentTransitions, at, config);
  return {
    health: { ...caught, state: 'healthy', lastHeartbeatAt: at, since: at, recentTransitions, recoveryStreak: 0, flapping: false },
    transitions,
  };
}

const INVENTORY: Readonly<Record<HealthState, 'healthy' | 'degraded' | 'unreachable' | 'down' | 'unknown'>> = {
  unknown: 'unknown', healthy: 'healthy', suspect: 'degraded', unreachable: 'unreachable', down: 'down',
};

/** The inventory's `health` field for a state ('suspect' is shown as 'degraded'). */
export function inventoryHealth(state: HealthState): 'healthy' | 'degraded' | 'unreachable' | 'down' | 'unknown' {
  return INVENTORY[state];
}

/**
 * The earliest time at which `onTick` changes the state (a tick at any earlier time does not),
 * or null when no silence can change it ('down'). Heartbeats move it later, so the controller
 * re-arms its timer after each step.
 */
export function nextDeadline(health: ServerHealth, config: HealthConfig): number | null {
  const next = NEXT[health.state];
  return next === null ? null : silentSince(health) + thresholdMs(next, config, heardSinceTracking(health));
}
