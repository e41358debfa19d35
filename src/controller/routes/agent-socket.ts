/**
 * GET /v1/agent/connect: the agent's one outbound WebSocket. Authenticated before the upgrade
 * (a refused agent gets an HTTP answer with the reason); then heartbeats are acknowledged and
 * command results matched to their commands. A malformed message is dropped, never trusted.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { agentMessageSchema, type AgentEvent } from '../../protocol/messages.js';
import { authenticateAgent, bearer } from '../auth.js';
import type { ControllerCore } from '../core.js';
import type { ControllerMonitoring } from '../monitoring.js';

export function agentSocketRoute(app: FastifyInstance, core: ControllerCore, monitoring?: ControllerMonitoring): void {
  app.get('/v1/agent/connect', {
    websocket: true,
    preValidation: async (request) => {
      const agent = authenticateAgent(core.store, bearer(request));
      (request as unknown as { agentId: string }).agentId = agent.id;
    },
  }, (socket, request) => {
    const agentId = (request as unknown as { agentId: string }).agentId;
    const name = core.store.agents.get(agentId)?.name ?? agentId;
    core.hub.attach(agentId, socket);
    core.fleet.setConnected(agentId, true);
    core.events.record('connected', name, { remote: request.ip });
    // Hardware changes between runs (a disk added, a GPU swapped) reach the inventory: facts are
    // collected again on every connection and written only when they differ.
    core.hub.command(agentId, 'collect-facts', {}, 120_000).then(
      (result) => {
        if (!result.ok || !result.data || typeof result.data !== 'object') return;
        core.updateFacts(agentId, result.data as Record<string, unknown>);
        monitoring?.factsUpdated(agentId);
      },
      () => { /* the agent went away or is busy; its registration facts stand */ },
    );
    core.onAgentConnected?.(name, agentId);
    let malformed = 0;
    const recordEvent = eventRecorder(core, name, request.log);
    socket.on('message', (data: Buffer) => {
      let json: unknown;
      try { json = JSON.parse(data.toString('utf8')); } catch { json = undefined; }
      const parsed = agentMessageSchema.safeParse(json);
      if (!parsed.success) {
        if (++malformed <= 3) request.log.warn({ agent: name }, 'dropped a malformed message from an agent');
        return;
      }
      const message = parsed.data;
      if (message.type === 'heartbeat') {
        core.heartbeat(agentId, message);
        monitoring?.heartbeat(message.sentAt);
        socket.send(JSON.stringify({
          type: 'ack', seq: message.seq, intervalMs: core.config.heartbeatIntervalMs, watch: core.watchPaths(),
          // Each acknowledgement renews the leases this agent holds on single-writer services.
          leases: core.leaseSource?.(name) ?? {}, leaseTtlMs: core.config.leaseTtlMs ?? 3 * core.config.heartbeatIntervalMs,
        }));
      } else if (message.type === 'result') core.hub.result(agentId, message);
      else if (message.type === 'event') recordEvent(message);
      else if (message.type === 'hello') monitoring?.agentHello(agentId, message.metrics);
    });
    socket.on('close', () => {
      if (core.hub.detach(agentId, socket)) {
        core.fleet.setConnected(agentId, false);
        core.events.record('disconnected', name, {});
      }
    });
  });
}

/** An agent's events beyond this many a minute are dropped (a crash-looping box must not flood the log). */
const EVENTS_PER_MINUTE = 600;

/** Records an agent's events (service probes, restarts, failures) under its server's name. */
function eventRecorder(core: ControllerCore, name: string, log: FastifyBaseLogger): (event: AgentEvent) => void {
  let windowStart = -Infinity;
  let count = 0;
  return (event) => {
    const now = core.clock();
    if (now - windowStart >= 60_000) {
      if (count > EVENTS_PER_MINUTE) log.warn({ agent: name, dropped: count - EVENTS_PER_MINUTE }, 'dropped agent events over the limit');
      windowStart = now;
      count = 0;
    }
    if (++count > EVENTS_PER_MINUTE) return;
    core.events.record(event.kind, name, { ...event.data, service: event.service, agentAt: event.at });
  };
}
