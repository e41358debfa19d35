/**
 * The dashboard's own routes: the sign-in page and form, sign-out, the session's CSRF token, the
 * single page and its static files, and the event stream. Its data comes from the /v1 API, which
 * accepts the session cookie (see access.ts). Every answer here carries a strict
 * Content-Security-Policy: scripts and styles only from these files, no inline code, and
 * Trusted Types so no script can assign HTML strings to the DOM.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CisternError } from '../../errors.js';
import { adminTokenHash, isAdminToken } from '../auth.js';
import type { ControllerCore } from '../core.js';
import { sameOrigin } from './access.js';
import { SESSION_COOKIE, type SessionStore } from './sessions.js';
import { eventStreamRoute, type StreamOptions } from './stream.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "require-trusted-types-for 'script'", "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: with it, browsers send `Origin: null` on the sign-in form's POST.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const STATIC_TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'service-status.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export interface DashboardDeps {
  core: ControllerCore;
  sessions: SessionStore;
  stream?: StreamOptions;
  /** Sign-in attempts per minute and client address. */
  signInsPerMinute?: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function loadStatic(): Promise<{ index: string; login: string; files: Map<string, string> }> {
  const dir = new URL('./static/', import.meta.url);
  const read = (name: string) => readFile(new URL(name, dir), 'utf8');
  const files = new Map<string, string>();
  for (const name of Object.keys(STATIC_TYPES)) files.set(name, await read(name));
  return { index: await read('index.html'), login: await read('login.html'), files };
}

export async function dashboardRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const { core, sessions } = deps;
  const assets = await loadStatic();
  const loginPage = (message = '') => assets.login.replace('<!--message-->', escapeHtml(message));
  const html = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body);
  const cookieOptions = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' } as const;

  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  // The sign-in form posts urlencoded; nothing else in the dashboard does.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/', (_request, reply) => reply.redirect('/ui/', 303));
  app.get('/ui', (_request, reply) => reply.redirect('/ui/', 303));
  app.get('/favicon.ico', (_request, reply) => reply.code(204).send());
  app.get('/ui/', (request, reply) => (request.dashboard?.ok ? html(reply, assets.index) : reply.redirect('/ui/login', 303)));
  app.get('/ui/login', (request, reply) => (request.dashboard?.ok ? reply.redirect('/ui/', 303) : html(reply, loginPage())));

  app.get<{ Params: { name: string } }>('/ui/static/:name', (request, reply) => {
    const type = STATIC_TYPES[request.params.name];
    const body = assets.files.get(request.params.name);
    if (!type || body === undefined) throw new CisternError('E_NOT_FOUND', 'no such dashboard file');
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  });

  app.post('/ui/login', { config: { rateLimit: { max: deps.signInsPerMinute ?? 20, timeWindow: 60_000 } } }, (request, reply) => {
    if (!sameOrigin(request)) throw new CisternError('E_FORBIDDEN', 'sign in from the dashboard\'s own sign-in page');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const adminHash = adminTokenHash(core.store);
    if (token === '' || adminHash === undefined || !isAdminToken(core.store, token)) {
      request.log.warn({ address: request.ip }, 'dashboard sign-in refused');
      return html(reply, loginPage('That is not the admin token.'), 401);
    }
    // A new id on every sign-in (no session fixation); the old session, if any, ends.
    sessions.destroy(request.cookies[SESSION_COOKIE]);
    const { id } = sessions.create(adminHash);
    request.log.info({ address: request.ip }, 'dashboard sign-in');
    return reply.setCookie(SESSION_COOKIE, id, { ...cookieOptions, maxAge: Math.floor(sessions.ttlMs / 1000) }).redirect('/ui/', 303);
  });

  app.post('/ui/logout', (request, reply) => {
    const access = request.dashboard;
    if (access && !access.ok) throw new CisternError('E_FORBIDDEN', access.reason);
    if (access) sessions.destroy(access.id);
    return reply.clearCookie(SESSION_COOKIE, cookieOptions).code(204).send();
  });

  app.get('/ui/api/session', (request) => {
    const access = request.dashboard;
    if (!access?.ok) throw new CisternError('E_UNAUTHORIZED', 'not signed in to the dashboard', { hint: 'sign in at /ui/login' });
    return { csrfToken: sessions.csrfToken(access.id), expiresAt: new Date(access.session.expiresAt).toISOString() };
  });

  eventStreamRoute(app, core, deps.stream);
}
