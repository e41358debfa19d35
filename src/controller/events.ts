/**
 * Fleet events (health transitions, registrations, token use, inventory reloads): stored with
 * their time, and handed to long-polling followers (`cistern events --follow`) as they happen.
 */
import { EventEmitter } from 'node:events';

export interface FleetEvent {
  id: number;
  at: number;
  kind: string;
  server: string | null;
  data: Record<string, unknown>;
}

export interface EventSink {
  add(event: Omit<FleetEvent, 'id'>): number;
  /** Oldest first; with `newest`, the last `limit` events rather than the first. */
  list(query: { afterId?: number; server?: string; limit: number; newest?: boolean }): FleetEvent[];
}

export class EventLog {
  private readonly emitter = new EventEmitter();

  constructor(private readonly sink: EventSink, private readonly clock: () => number = Date.now) {
    this.emitter.setMaxListeners(0);
  }

  record(kind: string, server: string | null, data: Record<string, unknown> = {}): FleetEvent {
    const event = { at: this.clock(), kind, server, data };
    const id = this.sink.add(event);
    const stored = { id, ...event };
    this.emitter.emit('event', stored);
    return stored;
  }

  list(query: { afterId?: number; server?: string; limit: number; newest?: boolean }): FleetEvent[] {
    return this.sink.list(query);
  }

  /** Calls `listener` with every event recorded from now on; returns the unsubscribe function. */
  subscribe(listener: (event: FleetEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Events after `afterId`; waits up to `waitMs` for the first one when there are none yet. */
  async follow(query: { afterId: number; server?: string; limit: number; newest?: boolean }, waitMs: number, signal?: AbortSignal): Promise<FleetEvent[]> {
    const now = this.list(query);
    if (now.length > 0 || waitMs <= 0) return now;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off('event', onEvent);
        signal?.removeEventListener('abort', done);
        resolve(this.list(query));
      };
      const onEvent = (event: FleetEvent) => {
        if (query.server === undefined || event.server === query.server) done();
      };
      const timer = setTimeout(done, waitMs);
      this.emitter.on('event', onEvent);
      signal?.addEventListener('abort', done);
    });
  }
}
