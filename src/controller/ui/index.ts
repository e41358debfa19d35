/**
 * The controller's web dashboard: sessions for the browser, the session cookie accepted by the
 * /v1 API, and the dashboard's pages and event stream. See docs/dashboard.md.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { ControllerCore } from '../core.js';
import { installDashboardAccess } from './access.js';
import { dashboardRoutes, type DashboardDeps } from './routes.js';
import { SessionStore } from './sessions.js';

export { SessionStore, SESSION_COOKIE, CSRF_HEADER } from './sessions.js';
export { CONTENT_SECURITY_POLICY } from './routes.js';

/** On the root app, before any route: the session hook must see every request. */
export async function installDashboard(app: FastifyInstance, deps: { core: ControllerCore; sessions?: SessionStore } & Omit<DashboardDeps, 'core' | 'sessions'>): Promise<SessionStore> {
  const sessions = deps.sessions ?? new SessionStore();
  await app.register(cookie);
  installDashboardAccess(app, sessions, deps.core.store);
  await app.register(async (scope) => dashboardRoutes(scope, { ...deps, sessions }));
  return sessions;
}
