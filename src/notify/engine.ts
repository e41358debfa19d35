/**
 * What to notify, and when: a pure state machine from alert inputs and the passing of time to
 * messages. Time comes in as epoch ms (`now`); nothing here reads a clock, sets a timer or does
 * I/O. The notifier calls `step` with each input and again at `nextDeadline`.
 *
 * Modelled on Alertmanager's route, with group_by: [alertname]. A route function picks each
 * alert's receivers and their timing (default: every receiver, the policy's timing). Per receiver:
 * - Grouping: a change (an alert starts firing, changes severity, or resolves) makes its group
 *   (receiver, alert name) due `groupWaitMs` later; changes in the same group before then go out
 *   in the same message.
 * - Dedup: a message carries only alerts that changed since the receiver last heard of them, or
 *   that have fired unchanged for `repeatIntervalMs` since (a reminder). An alert that fires and
 *   resolves before its group is due is never sent.
 * - Resolved: an alert the receiver was told is firing gets exactly one resolved message when it
 *   ends. A notice (`once`) is sent once and forgotten.
 * - Rate limit: a token bucket per receiver (GCRA: `burst` messages at once, then one per
 *   `intervalMs`). When the due groups outnumber the tokens, they go out as one merged message;
 *   with no token at all they wait for the next one, and go out merged then. A merged message
 *   says how many messages it stands for beyond itself (`folded`). An alert that fired and
 *   resolved while held back is still told (as resolved). Nothing is dropped.
 *
 * Contracts: inputs are never mutated; the same inputs give the same outputs.
 */
import { compareAlerts, type Alert, type AlertInput, type AlertStatus, type Notification, type Severity } from './types.js';

export interface NotifyPolicy {
  /** Defaults for alerts whose route does not say. */
  groupWaitMs: number;
  repeatIntervalMs: number;
  /** At most `burst` messages at once per receiver, then one every `intervalMs` (integer ms). */
  rateLimit: { burst: number; intervalMs: number };
}

/** 10 s to gather a group, a reminder every 4 h, 10 messages a minute per receiver. */
export const DEFAULT_POLICY: NotifyPolicy = Object.freeze({
  groupWaitMs: 10_000,
  repeatIntervalMs: 4 * 3_600_000,
  rateLimit: Object.freeze({ burst: 10, intervalMs: 6_000 }),
});

/** A receiver an alert goes to, with the timing of the route that chose it. */
export interface Target { receiver: string; groupWaitMs: number; repeatIntervalMs: number }

export interface EngineConfig {
  receivers: readonly string[];
  policy: NotifyPolicy;
  /**
   * The receivers an alert goes to (a pure function of the alert); default: every receiver, with
   * the policy's timing. Targets naming receivers not in `receivers` are ignored.
   */
  route?: (alert: Alert) => readonly Target[];
}

/** Per alert key, its targets by receiver name. */
type Routing = Map<string, Map<string, Target>>;

interface Sent { status: AlertStatus; severity: Severity; at: number }

export interface ReceiverState {
  /** GCRA's theoretical arrival time: a message may go when `tat - (burst - 1) * interval <= now`. */
  tat: number;
  /** Groups waiting to be sent, by alert name, with the time each is due. */
  due: Record<string, number>;
  /** What the receiver was last told about each alert. */
  sent: Record<string, Sent>;
  /** Alerts whose firing message the rate limit held back. */
  held: Record<string, true>;
  /**
   * Groups the rate limit holds back: how many messages they stand for, and when the last of
   * those was due (a change after that would have started a message of its own).
   */
  heldGroups: Record<string, { count: number; dueAt: number }>;
}

export interface NotifyState {
  alerts: Record<string, Alert>;
  receivers: Record<string, ReceiverState>;
}

export interface StepResult { state: NotifyState; notifications: Notification[] }

export function emptyState(): NotifyState {
  return { alerts: {}, receivers: {} };
}

function clone(state: NotifyState): NotifyState {
  const receivers: Record<string, ReceiverState> = {};
  for (const [name, r] of Object.entries(state.receivers)) {
    receivers[name] = { tat: r.tat, due: { ...r.due }, sent: { ...r.sent }, held: { ...r.held }, heldGroups: { ...r.heldGroups } };
  }
  return { alerts: { ...state.alerts }, receivers };
}

/**
 * Takes `input` (if any) at `now`, then sends every group that is due. Receivers new in
 * `config` hear of every alert firing now; receivers no longer in it are forgotten.
 */
export function step(state: NotifyState, config: EngineConfig, now: number, input?: AlertInput): StepResult {
  const next = clone(state);
  reconcile(next, config, now);
  if (input) observe(next, input, config, now);
  const routing = routeAll(next.alerts, config);
  const notifications: Notification[] = [];
  for (const receiver of [...config.receivers].sort()) {
    const r = next.receivers[receiver];
    if (r) notifications.push(...flush(next.alerts, routing, receiver, r, config.policy, now));
  }
  collect(next);
  return { state: next, notifications };
}

function targetsOf(alert: Alert, config: EngineConfig): Map<string, Target> {
  const wanted = new Set(config.receivers);
  const { groupWaitMs, repeatIntervalMs } = config.policy;
  const targets = config.route ? config.route(alert) : config.receivers.map((receiver) => ({ receiver, groupWaitMs, repeatIntervalMs }));
  const out = new Map<string, Target>();
  for (const t of targets) if (wanted.has(t.receiver) && !out.has(t.receiver)) out.set(t.receiver, t);
  return out;
}

function routeAll(alerts: Record<string, Alert>, config: EngineConfig): Routing {
  return new Map(Object.values(alerts).map((a) => [a.key, targetsOf(a, config)]));
}

/** When `step` should next be called with no input, or undefined when nothing waits. */
export function nextDeadline(state: NotifyState, config: EngineConfig): number | undefined {
  const routing = routeAll(state.alerts, config);
  let deadline: number | undefined;
  for (const [name, r] of Object.entries(state.receivers)) {
    const ready = readyAt(r, config.policy);
    const at = (t: number) => { const when = Math.max(t, ready); if (deadline === undefined || when < deadline) deadline = when; };
    for (const t of Object.values(r.due)) at(t);
    for (const [key, sent] of Object.entries(r.sent)) {
      const alert = state.alerts[key];
      const target = routing.get(key)?.get(name);
      if (alert && target && repeats(alert, sent)) at(sent.at + target.repeatIntervalMs);
    }
  }
  return deadline;
}

function repeats(alert: Alert, sent: Sent): boolean {
  return alert.status === 'firing' && !alert.once && sent.status === 'firing';
}

function reconcile(state: NotifyState, config: EngineConfig, now: number): void {
  const wanted = new Set(config.receivers);
  for (const name of Object.keys(state.receivers)) if (!wanted.has(name)) delete state.receivers[name];
  for (const name of wanted) {
    if (state.receivers[name]) continue;
    const r: ReceiverState = { tat: Number.NEGATIVE_INFINITY, due: {}, sent: {}, held: {}, heldGroups: {} };
    for (const alert of Object.values(state.alerts)) {
      const target = alert.status === 'firing' && !alert.once ? targetsOf(alert, config).get(name) : undefined;
      if (target) r.due[alert.name] = Math.min(r.due[alert.name] ?? Infinity, now + target.groupWaitMs);
    }
    state.receivers[name] = r;
  }
}

function observe(state: NotifyState, input: AlertInput, config: EngineConfig, now: number): void {
  const prev = state.alerts[input.key];
  const labels = { ...input.labels };
  const once = input.once === true;
  let changed: boolean;
  if (input.status === 'firing') {
    const ongoing = prev?.status === 'firing';
    changed = !ongoing || prev.severity !== input.severity;
    state.alerts[input.key] = {
      key: input.key, name: input.name, severity: input.severity, summary: input.summary, status: 'firing', labels, once,
      startsAt: ongoing ? prev.startsAt : now, endsAt: null,
    };
    // A notice is news every time it happens.
    if (once && ongoing) for (const r of Object.values(state.receivers)) delete r.sent[input.key];
    changed ||= once;
  } else {
    if (prev?.status !== 'firing' || prev.once) return;
    changed = true;
    state.alerts[input.key] = { ...prev, summary: input.summary, status: 'resolved', endsAt: now };
  }
  const alert = state.alerts[input.key];
  if (!changed || !alert) return;
  // The receivers it goes to now, and those that were told it fires (a route may have changed).
  const targets = targetsOf(alert, config);
  for (const [name, r] of Object.entries(state.receivers)) {
    const wait = targets.get(name)?.groupWaitMs ?? (r.sent[alert.key]?.status === 'firing' || r.held[alert.key] ? config.policy.groupWaitMs : undefined);
    if (wait === undefined) continue;
    const due = r.due[alert.name];
    if (due !== undefined && due <= now && available(r, config.policy, now) < 1) {
      // The group waits for a token: this change would have been a message of its own.
      const held = r.heldGroups[alert.name] ?? { count: 1, dueAt: due };
      r.heldGroups[alert.name] = now > held.dueAt ? { count: held.count + 1, dueAt: now + wait } : held;
    }
    r.due[alert.name] = Math.min(due ?? Infinity, now + wait);
  }
}

/**
 * The alerts of group `group` that receiver `name` should hear about now: firing ones routed to
 * it, and resolved ones it was told (or held back from being told) were firing.
 */
function itemsFor(alerts: Record<string, Alert>, routing: Routing, name: string, r: ReceiverState, group: string, now: number): Alert[] {
  const items: Alert[] = [];
  for (const alert of Object.values(alerts)) {
    if (alert.name !== group) continue;
    const sent = r.sent[alert.key];
    if (alert.status === 'firing') {
      const target = routing.get(alert.key)?.get(name);
      if (!target) continue;
      if (alert.once ? !sent : !sent || sent.status !== 'firing' || sent.severity !== alert.severity || now - sent.at >= target.repeatIntervalMs) items.push(alert);
    } else if (sent?.status === 'firing' || r.held[alert.key]) {
      items.push(alert);
    }
  }
  return items.sort(compareAlerts);
}

function dueGroups(alerts: Record<string, Alert>, routing: Routing, name: string, r: ReceiverState, now: number): string[] {
  const groups = new Set(Object.entries(r.due).filter(([, t]) => t <= now).map(([group]) => group));
  for (const [key, sent] of Object.entries(r.sent)) {
    const alert = alerts[key];
    const target = routing.get(key)?.get(name);
    if (alert && target && repeats(alert, sent) && sent.at + target.repeatIntervalMs <= now) groups.add(alert.name);
  }
  return [...groups].sort();
}

function readyAt(r: ReceiverState, policy: NotifyPolicy): number {
  return r.tat - (policy.rateLimit.burst - 1) * policy.rateLimit.intervalMs;
}

/** How many messages the bucket allows at `now`. */
function available(r: ReceiverState, policy: NotifyPolicy, now: number): number {
  const { burst, intervalMs } = policy.rateLimit;
  if (r.tat <= now) return burst;
  return Math.max(0, Math.floor((now + burst * intervalMs - r.tat) / intervalMs));
}

function flush(alerts: Record<string, Alert>, routing: Routing, receiver: string, r: ReceiverState, policy: NotifyPolicy, now: number): Notification[] {
  const groups: Array<{ name: string; items: Alert[] }> = [];
  for (const name of dueGroups(alerts, routing, receiver, r, now)) {
    const items = itemsFor(alerts, routing, receiver, r, name, now);
    if (items.length > 0) {
      groups.push({ name, items });
    } else {
      delete r.due[name];
      delete r.heldGroups[name];
    }
  }
  if (groups.length === 0) return [];
  const tokens = available(r, policy, now);
  if (tokens < 1) {
    for (const g of groups) {
      r.heldGroups[g.name] ??= { count: 1, dueAt: r.due[g.name] ?? now };
      for (const a of g.items) if (a.status === 'firing') r.held[a.key] = true;
    }
    return [];
  }
  const messages = tokens >= groups.length ? groups.map((g) => [g]) : [groups];
  return messages.map((merged) => {
    r.tat = Math.max(r.tat, now) + policy.rateLimit.intervalMs;
    const items = merged.flatMap((g) => g.items).sort(compareAlerts);
    const stands = merged.reduce((sum, g) => sum + (r.heldGroups[g.name]?.count ?? 1), 0);
    for (const g of merged) {
      delete r.due[g.name];
      delete r.heldGroups[g.name];
    }
    for (const a of items) {
      r.sent[a.key] = { status: a.status, severity: a.severity, at: now };
      delete r.held[a.key];
    }
    return {
      receiver, at: now, groups: merged.map((g) => g.name), status: items.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      alerts: items, folded: stands - 1,
    } satisfies Notification;
  });
}

/** Forgets resolved alerts no receiver still has to be told about, and notices every receiver has had. */
function collect(state: NotifyState): void {
  const receivers = Object.values(state.receivers);
  for (const [key, alert] of Object.entries(state.alerts)) {
    const done = alert.status === 'resolved'
      ? receivers.every((r) => r.sent[key]?.status !== 'firing' && !r.held[key])
      : alert.once && receivers.every((r) => r.sent[key] !== undefined);
    if (!done) continue;
    delete state.alerts[key];
    for (const r of receivers) delete r.sent[key];
  }
}
