/**
 * What a dashboard session lets a request do. A hook on the whole app resolves the session
 * cookie into `request.dashboard`, which `requireAdmin` (auth.ts) accepts in place of the admin
 * token, so the dashboard calls the same /v1 API as the CLI.
 *
 * CSRF: the cookie is SameSite=Strict, and on top of that a request that changes something
 * (any method but GET/HEAD/OPTIONS) must carry an Origin header naming the controller itself and
 * the session's CSRF token in the x-cistern-csrf header, which a page on another site can
 * neither read nor send without a CORS preflight the controller never grants.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adminTokenHash } from '../auth.js';
import type { ControllerStore } from '../ports.js';
import { CSRF_HEADER, SESSION_COOKIE, type Session, type SessionStore } from './sessions.js';

export type DashboardAccess =
  | { ok: true; id: string; session: Session }
  | { ok: false; reason: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Null without a live session cookie; see ui/access.ts. */
    dashboard: DashboardAccess | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when the request's Origin header is the controller's own scheme, host and port. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  return typeof origin === 'string' && origin === `${request.protocol}://${request.host}`;
}

export function dashboardAccess(request: FastifyRequest, sessions: SessionStore, store: ControllerStore): DashboardAccess | null {
  const id = request.cookies[SESSION_COOKIE];
  const session = sessions.find(id);
  if (!id || !session) return null;
  if (session.adminHash !== adminTokenHash(store)) {
    sessions.destroy(id);
    return null;
  }
  if (SAFE_METHODS.has(request.method)) return { ok: true, id, session };
  if (!sameOrigin(request)) return { ok: false, reason: 'a dashboard request that changes something must come from the dashboard\'s own origin' };
  const header = request.headers[CSRF_HEADER];
  if (!sessions.checkCsrf(id, typeof header === 'string' ? header : undefined)) {
    return { ok: false, reason: `a dashboard request that changes something needs the session's CSRF token in ${CSRF_HEADER}` };
  }
  return { ok: true, id, session };
}

/** Resolves the session cookie on every request (after @fastify/cookie has parsed it). */
export function installDashboardAccess(app: FastifyInstance, sessions: SessionStore, store: ControllerStore): void {
  app.decorateRequest('dashboard', null);
  app.addHook('onRequest', async (request) => {
    request.dashboard = dashboardAccess(request, sessions, store);
  });
}
