import { afterEach, describe, expect, it } from 'vitest';
import { testController, type TestController } from '../../testing/controller.js';
import { rotateAdminToken } from '../auth.js';
import { generateSecret } from '../tokens.js';
import { CONTENT_SECURITY_POLICY, CSRF_HEADER, SESSION_COOKIE } from './index.js';

const open: TestController[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function controller(): Promise<TestController> {
  const c = await testController();
  open.push(c);
  return c;
}

// app.inject speaks plain HTTP: the controller's own origin is http://HOST here.
const HOST = 'controller.test:7443';
const ORIGIN = `http://${HOST}`;

function signIn(c: TestController, token: string, headers: Record<string, string> = { origin: ORIGIN }) {
  return c.app.inject({
    method: 'POST', url: '/ui/login', headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams({ token }).toString(),
  });
}

/** Signs in and returns the session cookie and the session's CSRF token. */
async function session(c: TestController): Promise<{ cookie: string; id: string; csrf: string }> {
  const res = await signIn(c, c.adminToken);
  expect(res.statusCode).toBe(303);
  const id = res.cookies.find((k) => k.name === SESSION_COOKIE)?.value as string;
  const cookie = `${SESSION_COOKIE}=${id}`;
  const info = await c.app.inject({ method: 'GET', url: '/ui/api/session', headers: { host: HOST, cookie } });
  expect(info.statusCode).toBe(200);
  return { cookie, id, csrf: info.json().csrfToken };
}

describe('dashboard sign-in', () => {
  it('sends the pages to sign-in without a session, with a strict CSP on every dashboard answer', async () => {
    const c = await controller();
    expect((await c.app.inject({ method: 'GET', url: '/' })).headers.location).toBe('/ui/');
    const page = await c.app.inject({ method: 'GET', url: '/ui/' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/ui/login');
    const login = await c.app.inject({ method: 'GET', url: '/ui/login' });
    expect(login.statusCode).toBe(200);
    expect(login.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(login.body).toContain('<form method="post" action="/ui/login">');
    for (const res of [page, login, await c.app.inject({ method: 'GET', url: '/ui/static/app.js' })]) {
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'same-origin' });
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });

  it('serves only its own static files', async () => {
    const c = await controller();
    const js = await c.app.inject({ method: 'GET', url: '/ui/static/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).not.toContain('innerHTML');
    for (const url of ['/ui/static/app.css', '/ui/static/dom.js', '/ui/static/service-status.js']) expect((await c.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    for (const url of ['/ui/static/dom.js', '/ui/static/service-status.js']) expect((await c.app.inject({ method: 'GET', url })).body, url).not.toContain('innerHTML');
    for (const url of ['/ui/static/index.html', '/ui/static/..%2Fsessions.ts', '/ui/static/%2e%2e%2fapp.js', '/ui/static/nope.js']) {
      expect((await c.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
  });

  it('trades the admin token for a session cookie that is HttpOnly, Secure and SameSite=Strict', async () => {
    const c = await controller();
    const res = await signIn(c, c.adminToken);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/ui/');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; `));
    expect(setCookie.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Strict', 'Secure']);
    const id = res.cookies[0]?.value as string;
    const page = await c.app.inject({ method: 'GET', url: '/ui/', headers: { cookie: `${SESSION_COOKIE}=${id}` } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script type="module" src="/ui/static/app.js"></script>');
    // Neither the token nor the session id is ever logged.
    expect(c.logs()).toContain('dashboard sign-in');
    expect(c.logs()).not.toContain(c.adminToken.split('.')[1]);
    expect(c.logs()).not.toContain(id);
  });

  it('refuses a wrong token, an agent credential, an empty form, and a sign-in from another origin', async () => {
    const c = await controller();
    for (const token of [generateSecret('csa_'), generateSecret('cag_'), '', `${c.adminToken}x`]) {
      const res = await signIn(c, token);
      expect(res.statusCode, token).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).toContain('That is not the admin token.');
    }
    for (const headers of [{}, { origin: 'https://evil.example' }, { origin: 'null' }, { origin: `https://${HOST}` }] as Record<string, string>[]) {
      const res = await signIn(c, c.adminToken, headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(c.logs()).not.toContain(c.adminToken.split('.')[1]);
  });

  it('limits sign-in attempts per address', async () => {
    const c = await controller();
    const statuses = [];
    for (let i = 0; i < 21; i++) statuses.push((await signIn(c, generateSecret('csa_'))).statusCode);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
    expect((await signIn(c, c.adminToken)).statusCode).toBe(429);
  });
});

describe('the /v1 API with a dashboard session', () => {
  it('reads with the cookie alone', async () => {
    const c = await controller();
    const { cookie } = await session(c);
    for (const url of ['/v1/servers', '/v1/discovered', '/v1/events']) {
      expect((await c.app.inject({ method: 'GET', url, headers: { cookie } })).statusCode, url).toBe(200);
    }
    const forged = `${SESSION_COOKIE}=${'A'.repeat(43)}`;
    expect((await c.app.inject({ method: 'GET', url: '/v1/servers', headers: { cookie: forged } })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'GET', url: '/ui/api/session', headers: { cookie: forged } })).statusCode).toBe(401);
  });

  it('changes something only with the session\'s CSRF token and the controller\'s own Origin', async () => {
    const c = await controller();
    const { cookie, csrf } = await session(c);
    const other = await session(c);
    const tokens = () => c.store.tokens.list().length;
    const post = (headers: Record<string, string>) => c.app.inject({ method: 'POST', url: '/v1/tokens', headers: { host: HOST, cookie, ...headers }, payload: { uses: 1 } });
    const refusals: Record<string, string>[] = [
      {},
      { origin: ORIGIN },
      { [CSRF_HEADER]: csrf },
      { origin: 'https://evil.example', [CSRF_HEADER]: csrf },
      { origin: ORIGIN, [CSRF_HEADER]: other.csrf },
      { origin: ORIGIN, [CSRF_HEADER]: `${csrf}x` },
    ];
    for (const headers of refusals) {
      const res = await post(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json().error.code).toBe('E_FORBIDDEN');
    }
    expect(tokens()).toBe(0);
    expect((await post({ origin: ORIGIN, [CSRF_HEADER]: csrf })).statusCode).toBe(200);
    expect(tokens()).toBe(1);
    const approve = await c.app.inject({ method: 'POST', url: '/v1/discovered/approve', headers: { host: HOST, cookie, origin: ORIGIN, [CSRF_HEADER]: csrf }, payload: { all: true } });
    expect(approve.statusCode).toBe(200);
    expect(approve.json()).toEqual({ approved: [] });
  });

  it('ends at sign-out and when the admin token is rotated', async () => {
    const c = await controller();
    const a = await session(c);
    const b = await session(c);
    const refused = await c.app.inject({ method: 'POST', url: '/ui/logout', headers: { host: HOST, cookie: a.cookie, origin: ORIGIN } });
    expect(refused.statusCode).toBe(403);
    const out = await c.app.inject({ method: 'POST', url: '/ui/logout', headers: { host: HOST, cookie: a.cookie, origin: ORIGIN, [CSRF_HEADER]: a.csrf } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=; .*Expires=Thu, 01 Jan 1970`));
    expect((await c.app.inject({ method: 'GET', url: '/v1/servers', headers: { cookie: a.cookie } })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'GET', url: '/v1/servers', headers: { cookie: b.cookie } })).statusCode).toBe(200);
    rotateAdminToken(c.store);
    expect((await c.app.inject({ method: 'GET', url: '/v1/servers', headers: { cookie: b.cookie } })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'GET', url: '/ui/', headers: { cookie: b.cookie } })).headers.location).toBe('/ui/login');
  });
});

/** An SSE response read as text, with a bounded wait for some text to arrive. */
function reading(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const stream = {
    text: '',
    async until(text: string): Promise<void> {
      const deadline = Date.now() + 3_000;
      while (!stream.text.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no ${text} in the stream: ${stream.text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended before ${text}: ${stream.text}`);
        stream.text += value;
      }
    },
    async end(): Promise<void> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        stream.text += value;
      }
    },
  };
  return stream;
}

describe('GET /ui/events/stream', () => {
  it('needs a session, starts with the latest events, sends new ones as they happen, resumes, and ends when the app closes', async () => {
    const c = await controller();
    c.core.events.record('token-created', null, { token: 'aaaa0000' });
    const { cookie } = await session(c);
    const url = await c.app.listen({ host: '127.0.0.1', port: 0 });
    expect((await fetch(`${url}/ui/events/stream`)).status).toBe(401);

    const res = await fetch(`${url}/ui/events/stream`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const live = reading(res);
    await live.until('"kind":"token-created"');
    expect(live.text).toMatch(/^retry: 2000\n\nid: 1\nevent: fleet\ndata: \{"id":1,/);
    c.core.events.record('health', 'den', { from: 'unknown', to: 'healthy', reason: 'first heartbeat' });
    await live.until('"kind":"health"');
    expect(live.text).toContain('id: 2\nevent: fleet\ndata: {"id":2,');

    // A reconnecting EventSource sends the last id it saw: the stream goes on from there.
    const resumed = reading(await fetch(`${url}/ui/events/stream`, { headers: { cookie, 'last-event-id': '1' } }));
    await resumed.until('id: 2\n');

    await c.close();
    await Promise.all([live.end(), resumed.end()]);
    expect(resumed.text).not.toContain('id: 1\n');
  });
});
