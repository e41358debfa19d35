/**
 * One supervised service as a state machine: `step(state, event, now)` returns the next state
 * and the actions for the shell to carry out (probe, start, stop, restart) and the events to
 * record. Pure and deterministic: time comes in as `now`, results come back as events.
 *
 * - Probes run every `intervalMs` while the service is up and nothing else is in flight.
 * - `unhealthy` answers, `failureThreshold` in a row, make the service unhealthy: a restart is
 *   scheduled after an exponential backoff (reset once the service is healthy again), unless the
 *   restart budget (`budgetRestarts` in any `budgetWindowMs`) is spent: then it is `failed`,
 *   stopped, and left for failover; it is not started again until the controller takes it away
 *   (`desire` with run false) and gives it back.
 * - `starting` (Jellyfin's "Degraded", a refused port within the start grace) is reported at
 *   once and never restarts anything; `misconfigured` is reported after `failureThreshold` in a
 *   row and never restarts anything either.
 * - `successThreshold` healthy answers in a row make a (re)started service healthy.
 * - The service runs only while desired and allowed (the lease hook); otherwise it is stopped.
 *   A service whose state is not known yet (`up: null`) is started or stopped once to make sure.
 */
import type { Verdict } from '../services/schema.js';
import { inWindow, restartDelay, type Policy } from './policy.js';

/** What heartbeats and metrics say about a service. */
export type ReportedState = 'healthy' | 'unhealthy' | 'starting' | 'unknown' | 'misconfigured' | 'failed' | 'stopped';
export const REPORTED_STATES: readonly ReportedState[] = ['healthy', 'unhealthy', 'starting', 'unknown', 'misconfigured', 'failed', 'stopped'];

export type DriverAction = 'start' | 'stop' | 'restart';

export type SupervisorEvent =
  /** The controller wants the service running here (or not); a new policy may come with it. */
  | { type: 'desire'; run: boolean; policy?: Policy }
  /** The lease hook's answer for single-writer services. */
  | { type: 'lease'; allowed: boolean }
  /** Time passed (the shell wakes the machine at `wakeAt`). */
  | { type: 'tick' }
  /** The verdict of the probe the machine asked for as `seq`. */
  | { type: 'probed'; seq: number; verdict: Verdict; detail: string }
  /** The driver finished an action. */
  | { type: 'done'; action: DriverAction; ok: boolean; error?: string };

/** Something to record: every change of reported state, every start, stop, restart and failure. */
export type ServiceEvent =
  | { kind: 'service-state'; from: ReportedState; to: ReportedState; detail: string }
  | { kind: 'service-started' }
  | { kind: 'service-stopped'; reason: string }
  | { kind: 'service-restart'; attempt: number; delayMs: number; restartsInWindow: number; reason: string }
  | { kind: 'service-failed'; restarts: number; windowMs: number; reason: string }
  | { kind: 'service-action-failed'; action: DriverAction; error: string };

export type Action =
  | { type: 'probe'; seq: number }
  | { type: DriverAction }
  | { type: 'event'; event: ServiceEvent };

export interface ServiceState {
  readonly policy: Policy;
  readonly desired: boolean;
  /** The lease hook lets it run (always, for services that are not single-writer). */
  readonly allowed: boolean;
  /** Set when the restart budget ran out; cleared when the service stops being desired. */
  readonly failed: { readonly at: number; readonly reason: string } | null;
  /** Whether the service runs: true once started, false once stopped, null before either is known. */
  readonly up: boolean | null;
  /** The driver action in flight: nothing else is asked for meanwhile. */
  readonly busy: DriverAction | null;
  /** The probe in flight, by sequence number; a late answer to an older one is ignored. */
  readonly probing: number | null;
  readonly probeSeq: number;
  readonly health: 'unknown' | Verdict;
  /** The last probe's detail. */
  readonly detail: string;
  /** The last verdict and how many times in a row it came. */
  readonly streak: { readonly verdict: Verdict; readonly count: number } | null;
  readonly nextProbeAt: number | null;
  /** A restart is scheduled for then (backoff); no probes meanwhile. */
  readonly restartAt: number | null;
  readonly restartDelayMs: number;
  readonly restartReason: string;
  /** Restarts since the service was last healthy: the backoff exponent. */
  readonly attempt: number;
  /** When the restarts still inside the budget window were made, oldest first. */
  readonly restarts: readonly number[];
  /** A failed stop is tried again from then. */
  readonly retryAt: number | null;
  readonly stopFailures: number;
}

export interface Step {
  state: ServiceState;
  actions: Action[];
}

export function initialState(policy: Policy): ServiceState {
  return {
    policy, desired: false, allowed: true, failed: null, up: null, busy: null, probing: null, probeSeq: 0,
    health: 'unknown', detail: '', streak: null, nextProbeAt: null, restartAt: null, restartDelayMs: 0, restartReason: '',
    attempt: 0, restarts: [], retryAt: null, stopFailures: 0,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<ServiceState>;

const wanted = (s: ServiceState) => s.desired && s.allowed && s.failed === null;

export function step(state: ServiceState, event: SupervisorEvent, now: number): Step {
  const s: Draft = { ...state };
  const events: ServiceEvent[] = [];
  const commands: Action[] = [];
  receive(s, event, now, events);
  advance(s, now, commands, events);
  const before = report(state);
  const after = report(s);
  if (before.state !== after.state) events.push({ kind: 'service-state', from: before.state, to: after.state, detail: after.detail });
  return { state: s, actions: [...events.map((e): Action => ({ type: 'event', event: e })), ...commands] };
}

function receive(s: Draft, event: SupervisorEvent, now: number, events: ServiceEvent[]): void {
  switch (event.type) {
    case 'desire':
      if (event.policy) s.policy = event.policy;
      if (event.run && !s.desired) {
        s.retryAt = null;
        s.stopFailures = 0;
      }
      if (!event.run) {
        // Taken away: whatever failed here is the controller's to decide about now.
        s.failed = null;
        s.restarts = [];
        s.attempt = 0;
      }
      s.desired = event.run;
      return;
    case 'lease':
      s.allowed = event.allowed;
      return;
    case 'tick':
      return;
    case 'probed':
      probed(s, event, now, events);
      return;
    case 'done':
      done(s, event, now, events);
  }
}

function probed(s: Draft, event: Extract<SupervisorEvent, { type: 'probed' }>, now: number, events: ServiceEvent[]): void {
  if (s.probing === null || event.seq !== s.probing) return; // not the probe in flight
  s.probing = null;
  if (s.up !== true || s.busy !== null || s.restartAt !== null || !wanted(s)) return;
  const count = s.streak?.verdict === event.verdict ? s.streak.count + 1 : 1;
  s.streak = { verdict: event.verdict, count };
  s.detail = event.detail;
  const { failureThreshold, successThreshold } = s.policy;
  switch (event.verdict) {
    case 'healthy':
      if (s.health === 'healthy' || count >= successThreshold) {
        s.health = 'healthy';
        s.attempt = 0;
      }
      return;
    case 'starting':
      s.health = 'starting';
      return;
    case 'misconfigured':
      if (count >= failureThreshold) s.health = 'misconfigured';
      return;
    case 'unhealthy':
      if (count >= failureThreshold) unhealthy(s, now, events);
  }
}

/** Restart after the backoff, or, with the budget spent, fail. */
function unhealthy(s: Draft, now: number, events: ServiceEvent[]): void {
  s.health = 'unhealthy';
  if (spent(s, now, events)) return;
  s.restartDelayMs = restartDelay(s.policy, s.attempt);
  s.restartAt = now + s.restartDelayMs;
  s.restartReason = s.detail;
}

function spent(s: Draft, now: number, events: ServiceEvent[]): boolean {
  s.restarts = inWindow(s.policy, s.restarts, now);
  if (s.restarts.length < s.policy.budgetRestarts) return false;
  s.failed = { at: now, reason: s.detail };
  s.restartAt = null;
  events.push({ kind: 'service-failed', restarts: s.restarts.length, windowMs: s.policy.budgetWindowMs, reason: s.detail });
  return true;
}

function done(s: Draft, event: Extract<SupervisorEvent, { type: 'done' }>, now: number, events: ServiceEvent[]): void {
  if (s.busy !== event.action) return; // not the action in flight
  s.busy = null;
  const error = event.error ?? 'failed';
  if (event.action === 'stop') {
    if (event.ok) {
      if (s.up === true) events.push({ kind: 'service-stopped', reason: whyDown(s) });
      s.up = false;
      s.health = 'unknown';
      s.streak = null;
      s.nextProbeAt = null;
      s.retryAt = null;
      s.stopFailures = 0;
    } else {
      s.retryAt = now + restartDelay(s.policy, s.stopFailures);
      s.stopFailures += 1;
      events.push({ kind: 'service-action-failed', action: 'stop', error });
    }
    return;
  }
  // Started or restarted, or at least tried: the probes tell which (a driver that cannot start
  // the service makes it unhealthy, so the restart budget bounds the retries).
  s.up = true;
  s.health = 'starting';
  s.detail = event.ok ? `${event.action === 'start' ? 'started' : 'restarted'}; waiting for the first probe` : `${event.action} failed: ${error}`;
  s.streak = null;
  s.nextProbeAt = now + s.policy.initialDelayMs;
  if (!event.ok) events.push({ kind: 'service-action-failed', action: event.action, error });
  else if (event.action === 'start') events.push({ kind: 'service-started' });
}

function whyDown(s: ServiceState): string {
  if (s.failed) return 'failed: restart budget spent';
  if (!s.desired) return 'not wanted on this box';
  if (!s.allowed) return 'lease not held';
  return 'stopped';
}

/** What to do now that the event is in: at most one driver action or probe. */
function advance(s: Draft, now: number, commands: Action[], events: ServiceEvent[]): void {
  if (s.busy !== null) return;
  if (!wanted(s)) {
    s.restartAt = null;
    s.probing = null;
    if (s.up !== false && (s.retryAt === null || now >= s.retryAt)) {
      s.busy = 'stop';
      commands.push({ type: 'stop' });
    }
    return;
  }
  if (s.up !== true) {
    s.busy = 'start';
    commands.push({ type: 'start' });
    return;
  }
  if (s.restartAt !== null) {
    if (now < s.restartAt) return;
    if (spent(s, now, events)) {
      advance(s, now, commands, events);
      return;
    }
    s.restarts = [...s.restarts, now];
    s.attempt += 1;
    s.restartAt = null;
    s.probing = null;
    s.busy = 'restart';
    events.push({ kind: 'service-restart', attempt: s.attempt, delayMs: s.restartDelayMs, restartsInWindow: s.restarts.length, reason: s.restartReason });
    commands.push({ type: 'restart' });
    return;
  }
  if (s.probing === null && s.nextProbeAt !== null && now >= s.nextProbeAt) {
    s.probeSeq += 1;
    s.probing = s.probeSeq;
    s.nextProbeAt = now + s.policy.intervalMs;
    commands.push({ type: 'probe', seq: s.probeSeq });
  }
}

/** When the machine next has something to do on its own; null: only an event can move it. */
export function wakeAt(s: ServiceState): number | null {
  if (s.busy !== null) return null;
  if (!wanted(s)) return s.up !== false ? s.retryAt : null;
  if (s.up !== true) return null;
  if (s.restartAt !== null) return s.restartAt;
  return s.probing === null ? s.nextProbeAt : null;
}

/** The state and a line for people, as heartbeats carry them. */
export function report(s: ServiceState): { state: ReportedState; detail: string } {
  if (s.failed) return { state: 'failed', detail: `restart budget spent (${s.policy.budgetRestarts} in ${Math.round(s.policy.budgetWindowMs / 1000)} s): ${s.failed.reason}` };
  if (!s.desired) return { state: 'stopped', detail: 'not wanted on this box' };
  if (!s.allowed) return { state: 'stopped', detail: 'waiting for the lease: another box may hold it' };
  if (s.up !== true) return { state: 'starting', detail: 'starting' };
  if (s.busy === 'restart') return { state: 'unhealthy', detail: `restarting: ${s.restartReason}` };
  const state: ReportedState = s.health;
  if (s.restartAt !== null) return { state, detail: `${s.detail}; restart in ${Math.round(s.restartDelayMs / 100) / 10} s` };
  const streak = s.streak;
  if (streak && streak.verdict !== s.health && streak.verdict !== 'starting') {
    const threshold = streak.verdict === 'healthy' ? s.policy.successThreshold : s.policy.failureThreshold;
    return { state, detail: `${s.detail} (${streak.count} of ${threshold})` };
  }
  return { state, detail: s.detail };
}
