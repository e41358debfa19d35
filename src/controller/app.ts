/**
 * The controller's HTTPS API as a fastify app. Built without listening, so tests call
 * `app.inject()`; the daemon adds TLS and a port. Bodies are size-limited and validated,
 * registration is rate-limited, and every route but /healthz and the dashboard's sign-in page
 * and static files needs a credential (the admin token, or a dashboard session: ui/).
 */
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../util/logger.js';
import type { ControllerCore } from './core.js';
import { installErrorHandler } from './http-errors.js';
import { adminRoutes } from './routes/admin.js';
import type { ControllerDiscovery } from './discovery.js';
import { agentSocketRoute } from './routes/agent-socket.js';
import { pendingSocketRoute } from './routes/pending-socket.js';
import { registerRoute } from './routes/register.js';
import { serviceRoutes } from './routes/services.js';
import type { ServiceManager } from './services/manager.js';
import type { ControllerMonitoring } from './monitoring.js';
import { installRequestMetrics, monitoringRoutes } from './routes/monitoring.js';
import { installDashboard, type SessionStore } from './ui/index.js';

export interface AppOptions {
  core: ControllerCore;
  logger: Logger;
  https?: { key: string; cert: string };
  /** The URL agents reach the controller at, for join commands (known once the port is bound). */
  publicUrl: () => string;
  caFingerprint: string;
  registrationsPerMinute?: number;
  discovery: ControllerDiscovery;
  /** Service placement and failover; without it, no /v1/services. */
  services?: ServiceManager;
  /** Metrics, the scrape token and Prometheus service discovery; without it, no /metrics. */
  monitoring?: ControllerMonitoring;
  /** Dashboard sessions; a fresh in-memory store by default. */
  sessions?: SessionStore;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: 256 * 1024,
    ...(options.https && { https: { key: options.https.key, cert: options.https.cert } }),
    // Thousands of agents keep sockets open; idle HTTP keep-alives should not linger.
    keepAliveTimeout: 10_000,
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  if (options.monitoring) installRequestMetrics(app, options.monitoring);
  await app.register(rateLimit, { global: false });
  await app.register(websocket, { options: { maxPayload: 256 * 1024 } });
  await installDashboard(app, { core: options.core, ...(options.sessions && { sessions: options.sessions }) });

  app.get('/healthz', async () => ({ ok: true }));
  await app.register(async (scope) => registerRoute(scope, options.core, options.registrationsPerMinute ?? 30));
  await app.register(async (scope) => agentSocketRoute(scope, options.core, options.monitoring));
  await app.register(async (scope) => pendingSocketRoute(scope, options.discovery, options.registrationsPerMinute ?? 30));
  await app.register(async (scope) => adminRoutes(scope, { core: options.core, discovery: options.discovery, publicUrl: options.publicUrl, caFingerprint: options.caFingerprint }));
  const { services } = options;
  if (services) await app.register(async (scope) => serviceRoutes(scope, options.core, services));
  const { monitoring } = options;
  if (monitoring) await app.register(async (scope) => monitoringRoutes(scope, { core: options.core, monitoring }));
  return app;
}
