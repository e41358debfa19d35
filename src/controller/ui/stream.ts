/**
 * GET /ui/events/stream: fleet events as Server-Sent Events, for the dashboard's EventSource.
 * A fresh stream starts with the latest events; a reconnecting one (Last-Event-ID) resumes after
 * the last event it saw. Backed by the event log's follow(), so it sees exactly what
 * `cistern events --follow` sees. Every stream ends when the app closes.
 */
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { CisternError } from '../../errors.js';
import { requireAdmin } from '../auth.js';
import type { ControllerCore } from '../core.js';
import type { FleetEvent } from '../events.js';

export interface StreamOptions {
  /** Events a fresh stream starts with. */
  backlog?: number;
  /** A comment line after this long without events keeps proxies and the browser from timing out. */
  keepAliveMs?: number;
  maxStreams?: number;
}

/** One event as an SSE frame. JSON has no raw line breaks, so `data:` is one line. */
export function sseFrame(event: FleetEvent): string {
  return `id: ${event.id}\nevent: fleet\ndata: ${JSON.stringify(event)}\n\n`;
}

export function eventStreamRoute(app: FastifyInstance, core: ControllerCore, options: StreamOptions = {}): void {
  const open = new Set<AbortController>();
  const maxStreams = options.maxStreams ?? 32;
  app.addHook('preClose', async () => {
    for (const stream of open) stream.abort();
  });

  app.get('/ui/events/stream', { preHandler: requireAdmin(core.store) }, async (request, reply) => {
    if (open.size >= maxStreams) throw new CisternError('E_RATE_LIMITED', `${maxStreams} event streams are open already`);
    const lastId = Number(request.headers['last-event-id']);
    const resuming = Number.isSafeInteger(lastId) && lastId >= 0;
    const stream = new AbortController();
    open.add(stream);
    const res = reply.raw;
    res.once('close', () => stream.abort());
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });

    const write = async (text: string) => {
      if (!res.write(text)) await once(res, 'drain', { signal: stream.signal });
    };
    try {
      await write('retry: 2000\n\n');
      let after = resuming ? lastId : 0;
      if (!resuming) {
        const latest = core.events.list({ limit: options.backlog ?? 50, newest: true });
        for (const event of latest) await write(sseFrame(event));
        after = latest.at(-1)?.id ?? 0;
      }
      while (!stream.signal.aborted) {
        const events = await core.events.follow({ afterId: after, limit: 200 }, options.keepAliveMs ?? 15_000, stream.signal);
        if (stream.signal.aborted) break;
        for (const event of events) await write(sseFrame(event));
        if (events.length === 0) await write(': keep-alive\n\n');
        after = events.at(-1)?.id ?? after;
      }
    } catch (error) {
      if (!stream.signal.aborted) request.log.warn({ err: (error as Error).message }, 'event stream failed');
    } finally {
      open.delete(stream);
      res.end();
    }
  });
}
