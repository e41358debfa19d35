import { describe, expect, it } from 'vitest';
import { catalogService } from './catalog.js';
import { probeVerdict, type ProbeAnswer, type VerdictContext } from './probe-verdict.js';
import type { ServiceDefinition, Verdict } from './schema.js';

const service = (name: string): ServiceDefinition => {
  const found = catalogService(name);
  if (!found) throw new Error(`no ${name} in the catalog`);
  return found;
};

const http = (status: number, body = '', headers: Record<string, string> = {}): ProbeAnswer => ({ kind: 'http', status, body, headers });
const json = (status: number, value: unknown): ProbeAnswer => http(status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8' });
const text = (status: number, body: string): ProbeAnswer => http(status, body, { 'content-type': 'text/plain' });
const html = (status: number, body = '<!doctype html><html>...</html>'): ProbeAnswer => http(status, body, { 'Content-Type': 'text/html; charset=utf-8' });
const refused: ProbeAnswer = { kind: 'failed', reason: 'refused' };
const status: VerdictContext = { probe: 'status_probe', credential: true };

type Row = [string, string, ProbeAnswer, VerdictContext, Verdict, RegExp?];

// Answers as the real applications give them (see the sources cited in catalog.ts).
const TABLE: Row[] = [
  ['jellyfin', 'Healthy', text(200, 'Healthy'), {}, 'healthy'],
  ['jellyfin', 'Degraded while starting or migrating', text(200, 'Degraded'), {}, 'starting', /never restart/],
  ['jellyfin', 'Unhealthy (database check failed)', text(503, 'Unhealthy'), {}, 'unhealthy'],
  ['jellyfin', '503 loading page before core start-up completes', html(503, 'Jellyfin Server is loading. Please try again shortly.'), {}, 'starting'],
  ['jellyfin', 'refused 10 s after start', refused, { uptimeSeconds: 10 }, 'starting', /grace 120 s/],
  ['jellyfin', 'refused long after start', refused, { uptimeSeconds: 600 }, 'unhealthy', /connection refused/],
  ['jellyfin', 'refused, start time unknown', refused, {}, 'unhealthy'],
  ['jellyfin', 'no answer in time', { kind: 'failed', reason: 'timeout' }, { uptimeSeconds: 3600 }, 'unhealthy', /no answer in time/],
  ['jellyfin', 'redirect (a BaseUrl is set)', http(302, '', { Location: '/jellyfin/health' }), {}, 'misconfigured', /to \/jellyfin\/health/],
  ['jellyfin', 'not found', html(404, 'not found'), {}, 'misconfigured'],
  ['jellyfin', 'System/Info with the key', json(200, { Version: '10.11.0' }), status, 'healthy'],
  ['jellyfin', 'System/Info, key refused', http(401), status, 'misconfigured', /refused the agent's key/],
  ['jellyfin', 'System/Info, no key', http(401), { probe: 'status_probe', credential: false }, 'misconfigured', /does not have/],
  ['jellyfin', 'System/Info while the setup server runs', http(503, '', { 'Retry-After': '005' }), status, 'starting'],

  ...['sonarr', 'radarr', 'prowlarr'].flatMap((name): Row[] => [
    [name, 'ping OK', json(200, { status: 'OK' }), {}, 'healthy'],
    [name, 'ping cannot read the database', json(500, { status: 'Error' }), {}, 'unhealthy', /database/],
    [name, 'starting up', text(503, 'Sonarr is starting up, please try again later'), {}, 'starting'],
    [name, 'another program answers 200 on the port', html(200), {}, 'unhealthy', /unexpected answer/],
    [name, 'system/status with the key', json(200, { appName: name, version: '4.0.0' }), status, 'healthy'],
    [name, 'system/status, key refused', http(401), status, 'misconfigured'],
    [name, 'system/status while starting (JSON)', json(503, { ErrorMessage: 'Sonarr is starting up, please try again later' }), status, 'starting'],
  ]),

  ['bazarr', 'ping OK', json(200, { status: 'OK' }), {}, 'healthy'],
  ['bazarr', 'a version before the ping endpoint: its web page', html(200), {}, 'healthy', /database not checked/],
  ['bazarr', 'a version before the ping endpoint, behind basic auth', http(401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="Login Required"' }), {}, 'misconfigured'],
  ['bazarr', 'system/status with the key', json(200, { data: { bazarr_version: '1.5.2' } }), status, 'healthy'],
  ['bazarr', 'system/status, key refused', html(401, 'Unauthorized'), status, 'misconfigured'],

  ['transmission', '409 with a session id', http(409, '<h1>409: Conflict</h1>', { 'X-Transmission-Session-Id': 'abc' }), {}, 'healthy'],
  ['transmission', 'address not in rpc-whitelist', http(403, '<h1>403: Forbidden</h1>'), {}, 'misconfigured', /rpc-whitelist/],
  ['transmission', 'Host not in rpc-host-whitelist', http(421, '<h1>421: Misdirected Request</h1>'), {}, 'misconfigured', /rpc-host-whitelist/],
  ['transmission', 'password required, none sent', http(401, '', { 'WWW-Authenticate': 'Basic realm="Transmission"' }), {}, 'misconfigured', /does not have/],
  ['transmission', '409 without the header (not Transmission)', http(409), {}, 'misconfigured'],
  ['transmission', 'rpc-url changed', http(404, '<h1>404: Not Found</h1>'), {}, 'misconfigured'],
  ['transmission', 'daemon down', refused, { uptimeSeconds: 3600 }, 'unhealthy'],
  ['transmission', 'session-get succeeded', json(200, { arguments: { version: '4.0.6' }, result: 'success' }), status, 'healthy'],
  ['transmission', 'session-get failed', json(200, { result: 'no method name' }), status, 'unhealthy'],
  ['transmission', 'session-get from a refused address', http(403), status, 'misconfigured'],

  ['sabnzbd', 'version', json(200, { version: '4.5.1' }), {}, 'healthy'],
  ['sabnzbd', 'hostname check failed', text(403, 'Access denied - Hostname verification failed: https://sabnzbd.org/hostname-check'), {}, 'misconfigured'],
  ['sabnzbd', 'fullstatus', json(200, { status: { paused: false, loadavg: '0.1' } }), status, 'healthy'],
  ['sabnzbd', 'fullstatus, wrong key (plain text, HTTP 200)', text(200, 'API Key Incorrect'), status, 'misconfigured', /refused the API key/],
  ['sabnzbd', 'fullstatus, no key (JSON, HTTP 200)', json(200, { status: false, error: 'API Key Required' }), status, 'misconfigured', /refused the API key/],
  ['sabnzbd', 'fullstatus, other refusal', json(200, { status: false, error: 'not implemented' }), status, 'misconfigured'],

  ['jellyseerr', 'appdata', json(200, { appData: true, appDataPath: '/var/lib/jellyseerr' }), {}, 'healthy'],
  ['jellyseerr', 'refused while migrating before it listens', refused, { uptimeSeconds: 30 }, 'starting'],
  ['jellyseerr', 'auth/me with the key', json(200, { id: 1 }), status, 'healthy'],
  ['jellyseerr', 'auth/me, key refused (403, never 401)', json(403, { status: 403, error: 'You do not have permission to access this endpoint' }), status, 'misconfigured', /API key/],
];

describe('probeVerdict for the catalog', () => {
  it.each(TABLE)('%s: %s', (name, _what, answer, context, verdict, detail) => {
    const result = probeVerdict(service(name), answer, context);
    expect(result.verdict).toBe(verdict);
    if (detail) expect(result.detail).toMatch(detail);
  });

  it('covers every catalog service, with both probes', () => {
    for (const name of ['jellyfin', 'sonarr', 'radarr', 'prowlarr', 'bazarr', 'transmission', 'sabnzbd', 'jellyseerr']) {
      const rows = TABLE.filter(([n]) => n === name);
      expect(rows.some(([, , , context]) => context.probe === 'status_probe'), name).toBe(true);
      expect(rows.some(([, , , context]) => context.probe !== 'status_probe'), name).toBe(true);
    }
  });

  it('shows short bodies such as Jellyfin\'s status word, not whole pages', () => {
    expect(probeVerdict(service('jellyfin'), text(200, 'Degraded')).detail).toContain('[HTTP 200 "Degraded"]');
    expect(probeVerdict(service('sonarr'), html(200)).detail).toContain('[HTTP 200]');
  });
});

const custom = (probe: ServiceDefinition['probe']): ServiceDefinition => ({
  name: 'my-app', port: 8123, probe, state_dir: null, single_writer: false,
  needs: { memory_mb: 256, cpu: 0.5, disk_gb: 1 }, systemd_unit: 'my-app.service', start_grace_s: 60,
});

describe('probeVerdict for custom probes', () => {
  const tcp = custom({ kind: 'tcp' });
  const command = custom({ kind: 'command', argv: ['/usr/bin/check'], expect_exit: [0, 2] });
  const plain = custom({ kind: 'http', path: '/' });

  it.each<[string, ServiceDefinition, ProbeAnswer, Verdict]>([
    ['tcp connected', tcp, { kind: 'tcp' }, 'healthy'],
    ['tcp refused', tcp, refused, 'unhealthy'],
    ['tcp TLS failure', tcp, { kind: 'failed', reason: 'tls' }, 'misconfigured'],
    ['command exit 0', command, { kind: 'exit', code: 0 }, 'healthy'],
    ['command exit 2, listed as healthy', command, { kind: 'exit', code: 2 }, 'healthy'],
    ['command exit 1', command, { kind: 'exit', code: 1 }, 'unhealthy'],
    ['command not found', command, { kind: 'exit', code: 127 }, 'misconfigured'],
    ['command killed', command, { kind: 'exit', code: null, signal: 'SIGKILL' }, 'unhealthy'],
    ['http without expect: any 2xx', plain, http(204), 'healthy'],
    ['http 500', plain, http(500), 'unhealthy'],
    ['http 403', plain, http(403), 'misconfigured'],
  ])('%s', (_what, definition, answer, verdict) => {
    expect(probeVerdict(definition, answer).verdict).toBe(verdict);
  });

  it('treats a probe answer of the wrong kind, or a missing status probe, as a bug', () => {
    expect(() => probeVerdict(custom({ kind: 'tcp' }), http(200))).toThrow(/HTTP answer for a tcp probe/);
    expect(() => probeVerdict(custom({ kind: 'tcp' }), { kind: 'tcp' }, { probe: 'status_probe' })).toThrow(/no status_probe/);
  });
});
