/**
 * GET /v1/agent/pending: the connection a `--discoverable` box holds while it waits for the
 * admin. No credential (the box has none yet): it sends one hello, gets an acknowledgement, and
 * later either its sealed credential or a refusal. Rate-limited per address, hellos bounded in
 * size and time, and the number of waiting boxes capped, so strangers on the network cannot
 * exhaust the controller.
 */
import type { FastifyInstance } from 'fastify';
import { pendingHelloSchema } from '../../protocol/messages.js';
import type { ControllerDiscovery } from '../discovery.js';
import { pendingFingerprint } from '../discovery.js';
import type { PendingConnection } from '../discovered.js';

const HELLO_TIMEOUT_MS = 10_000;

export function pendingSocketRoute(app: FastifyInstance, discovery: ControllerDiscovery, perMinute: number): void {
  app.get('/v1/agent/pending', { websocket: true, config: { rateLimit: { max: perMinute, timeWindow: 60_000 } } }, (socket, request) => {
    let connection: PendingConnection | undefined;
    const timer = setTimeout(() => socket.close(4008, 'no hello in time'), HELLO_TIMEOUT_MS);
    socket.once('message', (data: Buffer) => {
      clearTimeout(timer);
      let json: unknown;
      try { json = JSON.parse(data.toString('utf8')); } catch { json = undefined; }
      const hello = pendingHelloSchema.safeParse(json);
      if (!hello.success) {
        socket.close(4400, 'the first message must be a pending-hello');
        return;
      }
      connection = {
        hello: hello.data,
        fingerprint: pendingFingerprint(hello.data),
        address: request.ip,
        send: (message) => { if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message)); },
        close: (code, reason) => socket.close(code, reason),
      };
      if (discovery.connected(connection)) request.log.info({ name: hello.data.name ?? hello.data.hostname, remote: request.ip }, 'a box is waiting for approval');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (connection) discovery.disconnected(connection);
    });
  });
}
