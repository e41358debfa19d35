/**
 * The controller's own alert notifications: follows the event log, turns events into alert
 * inputs (from-events.ts), lets the engine decide what to send and when (engine.ts), and sends
 * it (send.ts). Each receiver has its own queue, so a slow or failing one never holds back the
 * others; every message sent, failed or dropped is recorded in the event
 * log as a 'notification' event and logged, with no URL or secret in either.
 *
 * Settings are read from the inventory's `monitoring` section on every event and timer, so an
 * edit takes effect at the inventory's next reload; an invalid edit is logged and the last good
 * settings stay in force. State is in memory: after a restart, problems still present fire again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { EventLog, FleetEvent } from '../controller/events.js';
import type { Logger } from '../util/logger.js';
import { DEFAULT_POLICY, emptyState, nextDeadline, step, type EngineConfig, type NotifyPolicy, type NotifyState } from './engine.js';
import { forReceiver } from './format.js';
import { alertsFromEvent } from './from-events.js';
import { notifyConfig, router, type NotifyConfig, type ReceiverConfig } from './receivers.js';
import { DEFAULT_DELIVERY, send, type Delivery, type SendResult } from './send.js';
import type { AlertInput, Notification } from './types.js';

export interface NotifierOptions {
  events: EventLog;
  /** The inventory's `monitoring` section as it is now (its last valid version), as parsed YAML. */
  monitoring: () => unknown;
  /** Where relative `*_file` paths are read from: the inventory's folder. */
  baseDir: string;
  /** The controller's URL, for Alertmanager's externalURL. */
  externalUrl: () => string;
  logger: Logger;
  clock?: () => number;
  /** Timing where routes do not set it, and the rate limit per receiver (default DEFAULT_POLICY). */
  policy?: NotifyPolicy;
  /** Timeouts and retries (default DEFAULT_DELIVERY). */
  delivery?: Delivery;
  /** Messages waiting per receiver beyond which new ones are dropped (and reported). Default 50. */
  maxQueue?: number;
}

interface Queue { pending: number; tail: Promise<void> }

/** Longest timer: deadlines further away are re-checked then. */
const MAX_TIMER_MS = 3_600_000;
/** Alert keys listed in a 'notification' event. */
const MAX_KEYS = 20;

export class Notifier {
  private state: NotifyState = emptyState();
  private config: NotifyConfig | undefined;
  private engine: EngineConfig;
  private raw: unknown;
  private checked = false;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly queues = new Map<string, Queue>();
  private readonly clock: () => number;

  constructor(private readonly options: NotifierOptions) {
    this.clock = options.clock ?? Date.now;
    this.engine = { receivers: [], policy: options.policy ?? DEFAULT_POLICY };
  }

  /** Starts following events recorded from now on. */
  start(): void {
    if (this.loop) return;
    this.settings();
    const after = this.options.events.list({ limit: 1, newest: true })[0]?.id ?? 0;
    this.loop = this.follow(after);
  }

  /** Stops following and sending: waits abandoned, sends in progress cancelled and reported. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.loop;
    await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  /** Takes one alert input now, as if an event had mapped to it (tests, and future callers). */
  observe(input: AlertInput): void {
    this.advance(input);
  }

  private async follow(afterId: number): Promise<void> {
    let after = afterId;
    while (!this.closed) {
      let batch: FleetEvent[];
      try {
        batch = await this.options.events.follow({ afterId: after, limit: 500 }, 60_000, this.abort.signal);
      } catch (error) {
        this.options.logger.error({ err: (error as Error).message }, 'notifications: cannot read the event log; trying again in 1 s');
        await sleep(1_000, undefined, { signal: this.abort.signal }).catch(() => undefined);
        continue;
      }
      for (const event of batch) {
        after = event.id;
        if (this.closed) return;
        for (const input of alertsFromEvent(event)) this.advance(input);
      }
    }
  }

  /** The settings in force: re-read when the inventory's monitoring section changed. */
  private settings(): NotifyConfig | undefined {
    const raw = this.options.monitoring();
    if (this.checked && isDeepStrictEqual(raw, this.raw)) return this.config;
    this.checked = true;
    this.raw = structuredClone(raw);
    const result = notifyConfig(raw);
    for (const warning of result.warnings) this.options.logger.warn({ code: 'E_NOTIFY_CONFIG' }, `notifications: ${warning}`);
    if (!result.value) {
      this.options.logger.error({ code: 'E_NOTIFY_CONFIG', errors: result.errors },
        `notification settings refused${this.config ? ', the last good ones stay in force' : ''}: ${result.errors[0] ?? ''}`);
      return this.config;
    }
    const names = result.value.receivers.map((r) => r.name);
    if (names.length > 0 || this.config) this.options.logger.info({ receivers: names }, names.length > 0 ? `notifications go to ${names.join(', ')}` : 'notifications off: no receivers');
    if (names.length > 0 && result.value.muted.length > 0) {
      this.options.logger.info({ muted: result.value.muted }, `notifications: ${result.value.muted.join(', ')} left to Alertmanager (monitoring.notifications_from)`);
    }
    this.config = result.value;
    const policy = this.options.policy ?? DEFAULT_POLICY;
    this.engine = { receivers: names, policy, route: router(result.value, policy) };
    return this.config;
  }

  private advance(input?: AlertInput): void {
    if (this.closed) return;
    const config = this.settings();
    // A muted alert routes nowhere anyway; kept out of the state, a notice is not held forever
    // waiting for receivers that will never get it. Resolved inputs still go in: a receiver told
    // before the mute hears the end.
    const muted = input?.status === 'firing' && config?.muted.includes(input.name);
    const result = step(this.state, this.engine, this.clock(), muted ? undefined : input);
    this.state = result.state;
    if (config) for (const n of result.notifications) this.dispatch(n, config);
    clearTimeout(this.timer);
    const deadline = nextDeadline(this.state, this.engine);
    if (deadline === undefined) return;
    this.timer = setTimeout(() => this.advance(), Math.min(MAX_TIMER_MS, Math.max(0, deadline - this.clock())));
    this.timer.unref();
  }

  private dispatch(n: Notification, config: NotifyConfig): void {
    const receiver = config.receivers.find((r) => r.name === n.receiver);
    const message = receiver && forReceiver(n, receiver.sendResolved);
    if (!receiver || !message) return;
    let queue = this.queues.get(receiver.name);
    if (!queue) this.queues.set(receiver.name, (queue = { pending: 0, tail: Promise.resolve() }));
    if (queue.pending >= (this.options.maxQueue ?? 50)) {
      this.report(receiver, message, { ok: false, attempts: 0, error: `${queue.pending} messages are waiting for this receiver already` }, 'dropped');
      return;
    }
    queue.pending++;
    const q = queue;
    const ctx = { baseDir: this.options.baseDir, externalUrl: this.options.externalUrl(), delivery: this.options.delivery ?? DEFAULT_DELIVERY, signal: this.abort.signal };
    q.tail = q.tail.then(async () => {
      const result = await send(receiver.integration, message, ctx);
      q.pending--;
      this.report(receiver, message, result, result.ok ? 'sent' : 'failed');
    });
  }

  private report(receiver: ReceiverConfig, n: Notification, result: SendResult, outcome: 'sent' | 'failed' | 'dropped'): void {
    const servers = new Set(n.alerts.map((a) => a.labels.server));
    const server = servers.size === 1 ? ([...servers][0] ?? null) : null;
    const data = {
      receiver: receiver.name, type: receiver.integration.type, result: outcome, status: n.status, groups: n.groups,
      alerts: n.alerts.slice(0, MAX_KEYS).map((a) => `${a.key} ${a.status}`), alertCount: n.alerts.length, folded: n.folded, attempts: result.attempts,
      ...(!result.ok && { code: 'E_NOTIFY_SEND', error: result.error }),
    };
    const { logger } = this.options;
    if (outcome === 'sent') logger.info(data, `notification sent to ${receiver.name}`);
    else logger.warn(data, `notification ${outcome} for ${receiver.name}: ${result.ok ? '' : result.error}`);
    try {
      this.options.events.record('notification', server, data);
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'notifications: cannot record an event');
    }
  }
}
