/**
 * A stand-in for one media app (Jellyfin, Sonarr, Radarr, Prowlarr, Bazarr or SABnzbd) that
 * answers on the app's default port and paths exactly as the app does (see
 * /work/shared/MEDIA-STACK.md), so Cistern's probes are tested against real answers. One process
 * per app, so `lab.kill`/`lab.freeze` hit one app as they would on a real box.
 *
 * Behaviour is steered by a control file (JSON, re-read on every request, written atomically by
 * the harness): `{"health": "ok" | "degraded" | "fail" | "hang", "delayMs": N}`.
 * - ok: the app's healthy answers.
 * - degraded: Jellyfin's 200 `Degraded` (starting or migrating); the other apps have no such
 *   state and answer as `ok`.
 * - fail: the cheap health probe answers as the app does when broken (below); other paths
 *   answer as usual, since the app is up.
 * - hang: every request is read and never answered (the socket stays open), as a wedged app
 *   does; new connections are still accepted.
 * - delayMs: every answer waits this long first (a slow app); combines with the modes above.
 * A missing file means ok with no delay. Only the lab's own file system reaches it: nothing on
 * the network can change a stand-in.
 *
 * Runs as plain JavaScript (the harness transpiles this file once per lab), so it imports
 * nothing but node: built-ins. Argument: one JSON object, `StandinConfig`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Default ports, from the apps' own defaults; versions are those the stand-ins report. */
export const MEDIA_APPS = {
  jellyfin: { port: 8096, version: '10.11.3' },
  sonarr: { port: 8989, version: '4.0.15.2941' },
  radarr: { port: 7878, version: '5.26.2.10099' },
  prowlarr: { port: 9696, version: '1.37.0.5076' },
  bazarr: { port: 6767, version: '1.5.2' },
  sabnzbd: { port: 8080, version: '4.3.3' },
} as const;

export type MediaApp = keyof typeof MEDIA_APPS;
export const MEDIA_APP_NAMES = Object.keys(MEDIA_APPS) as MediaApp[];

export type Health = 'ok' | 'degraded' | 'fail' | 'hang';
export interface Control { health?: Health; delayMs?: number }

export interface StandinConfig {
  app: MediaApp;
  port: number;
  controlFile: string;
  apiKey: string;
  /** The lab host's name: Jellyfin's ServerName, the *arr instance's name. */
  serverName: string;
  address: string;
  /** Where to listen; default 0.0.0.0 (the lab's hosts). Loopback tests give 127.0.0.1, and port 0 for any free port. */
  listen?: string;
}

interface Answer { status: number; headers: Record<string, string>; body: string }
interface Request { method: string; path: string; query: URLSearchParams; headers: IncomingMessage['headers'] }

const JSON_UTF8 = 'application/json; charset=utf-8';

/** System.Text.Json with WriteIndented, as the *arr apps serialise (NzbDrone.Common STJson). */
const indentedJson = (value: unknown) => JSON.stringify(value, null, 2);

/** Python's json.dumps with default separators (", " and ": "), as Flask-RESTX and SABnzbd write. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

const header = (request: Request, name: string) => {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

function readControl(file: string): Control {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Control;
  } catch {
    return {};
  }
}

/** Jellyfin: ASP.NET Core health checks on /health; auth by token (Jellyfin.Api CustomAuthenticationHandler). */
function jellyfin(config: StandinConfig, request: Request, health: Health): Answer {
  const path = request.path.toLowerCase(); // ASP.NET Core routing ignores case
  if (path === '/health') {
    // HealthCheckMiddleware: status name as text/plain; Unhealthy is 503; caching forbidden.
    const [status, body] = health === 'fail' ? [503, 'Unhealthy'] : health === 'degraded' ? [200, 'Degraded'] : [200, 'Healthy'];
    return {
      status,
      headers: { 'content-type': 'text/plain', 'cache-control': 'no-store, no-cache', pragma: 'no-cache', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' },
      body,
    };
  }
  const publicInfo = {
    LocalAddress: `http://${config.address}:${config.port}`, ServerName: config.serverName, Version: MEDIA_APPS.jellyfin.version,
    ProductName: 'Jellyfin Server', OperatingSystem: '', Id: `lab${config.serverName}`.padEnd(32, '0'), StartupWizardCompleted: true,
  };
  if (path === '/system/info/public') return { status: 200, headers: { 'content-type': JSON_UTF8 }, body: JSON.stringify(publicInfo) };
  // With EnableMetrics on (system.xml), Jellyfin serves prometheus-net's exposition here, without a key.
  if (path === '/metrics') {
    const body = [
      '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.', '# TYPE process_start_time_seconds gauge',
      `process_start_time_seconds ${Math.floor(Date.now() / 1000 - process.uptime())}`,
      '# HELP dotnet_total_memory_bytes Total known allocated memory', '# TYPE dotnet_total_memory_bytes gauge',
      `dotnet_total_memory_bytes ${process.memoryUsage().heapUsed}`, '',
    ].join('\n');
    return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }, body };
  }
  if (path === '/system/info') {
    if (jellyfinToken(request) !== config.apiKey) return { status: 401, headers: {}, body: '' };
    const info = { ...publicInfo, OperatingSystemDisplayName: 'Linux', HasPendingRestart: false, IsShuttingDown: false, SupportsLibraryMonitor: true, WebSocketPortNumber: config.port, CanSelfRestart: true, CanLaunchWebBrowser: false, ProgramDataPath: '/var/lib/jellyfin', HasUpdateAvailable: false, SystemArchitecture: 'X64' };
    return { status: 200, headers: { 'content-type': JSON_UTF8 }, body: JSON.stringify(info) };
  }
  return { status: 404, headers: {}, body: '' };
}

/** `Authorization: MediaBrowser Token="KEY"` (or X-Emby-Authorization), X-Emby-Token, X-MediaBrowser-Token, or ?api_key= / ?ApiKey=. */
function jellyfinToken(request: Request): string | undefined {
  const authorization = header(request, 'authorization') ?? header(request, 'x-emby-authorization');
  const fromAuthorization = authorization && /^(?:MediaBrowser|Emby)\s/i.test(authorization) ? /\bToken="([^"]*)"/i.exec(authorization)?.[1] : undefined;
  return fromAuthorization ?? header(request, 'x-emby-token') ?? header(request, 'x-mediabrowser-token') ?? request.query.get('api_key') ?? request.query.get('ApiKey') ?? undefined;
}

/** Sonarr, Radarr (API v3) and Prowlarr (v1): PingController and ApiKeyAuthenticationHandler. */
function servarr(config: StandinConfig, request: Request, health: Health, app: 'sonarr' | 'radarr' | 'prowlarr'): Answer {
  const path = request.path.toLowerCase();
  if (path === '/ping') {
    // PingController: 500 {"status": "Error"} when reading the config table fails.
    const failed = health === 'fail';
    return { status: failed ? 500 : 200, headers: { 'content-type': JSON_UTF8 }, body: request.method === 'HEAD' ? '' : indentedJson({ status: failed ? 'Error' : 'OK' }) };
  }
  const api = app === 'prowlarr' ? 'v1' : 'v3';
  if (path === `/api/${api}/system/status`) {
    // The key comes from ?apikey=, then X-Api-Key, then "Authorization: Bearer"; no valid key: 401, empty body.
    const key = request.query.get('apikey') ?? header(request, 'x-api-key') ?? header(request, 'authorization')?.replace('Bearer ', '');
    if (key !== config.apiKey) return { status: 401, headers: {}, body: '' };
    const name = `${app[0]?.toUpperCase()}${app.slice(1)}`;
    const status = {
      appName: name, instanceName: name, version: MEDIA_APPS[app].version, buildTime: '2025-06-01T00:00:00Z', isDebug: false, isProduction: true,
      isAdmin: false, isUserInteractive: false, startupPath: `/usr/lib/${app}/bin`, appData: `/var/lib/${app}`, osName: 'nixos', osVersion: '25.05',
      isNetCore: true, isLinux: true, isOsx: false, isWindows: false, isDocker: false, mode: 'console', branch: 'main', authentication: 'forms',
      sqliteVersion: '3.46.1', urlBase: '', runtimeVersion: '8.0.12', runtimeName: '.NET', startTime: new Date(Date.now() - process.uptime() * 1000).toISOString(),
      packageUpdateMechanism: 'external', databaseType: 'sqLite', databaseVersion: '3.46.1',
    };
    return { status: 200, headers: { 'content-type': JSON_UTF8 }, body: indentedJson(status) };
  }
  return { status: 404, headers: {}, body: '' };
}

/** Werkzeug's Unauthorized description, which Flask-RESTX's abort(401) sends as {"message": …}. */
const UNAUTHORIZED = "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";

/** Bazarr (1.5.2+): Flask-RESTX under /api; `authenticate` takes ?apikey=, a form field or X-API-KEY. */
function bazarr(config: StandinConfig, request: Request, health: Health): Answer {
  const json = (status: number, value: unknown) => ({ status, headers: { 'content-type': 'application/json' }, body: `${pythonJson(value)}\n` });
  if (request.path === '/api/system/ping') {
    // SystemPing has no failing answer of its own: a broken Bazarr fails as Flask-RESTX does on an unhandled error.
    return health === 'fail' ? json(500, { message: 'Internal Server Error' }) : json(200, { status: 'OK' });
  }
  if (request.path === '/api/system/status') {
    if (request.query.get('apikey') !== config.apiKey && header(request, 'x-api-key') !== config.apiKey) return json(401, { message: UNAUTHORIZED });
    return json(200, { data: {
      bazarr_version: MEDIA_APPS.bazarr.version, package_version: '', sonarr_version: MEDIA_APPS.sonarr.version, radarr_version: MEDIA_APPS.radarr.version,
      operating_system: 'Linux', python_version: '3.12.8', bazarr_directory: '/nix/store/bazarr', bazarr_config_directory: '/var/lib/bazarr',
      start_time: Math.floor(Date.now() / 1000 - process.uptime()), timezone: 'UTC',
    } });
  }
  return json(404, { message: 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.' });
}

/** SABnzbd: everything under /api?mode=…; api.report() writes JSON with Pragma: no-cache; errors are 200 with {"status": false, "error": …}. */
function sabnzbd(config: StandinConfig, request: Request, health: Health): Answer {
  const report = (value: unknown) => ({ status: 200, headers: { 'content-type': 'application/json;charset=UTF-8', pragma: 'no-cache' }, body: pythonJson(value) });
  if (request.path !== '/api') return { status: 404, headers: { 'content-type': 'text/html;charset=utf-8' }, body: '<h2>404 Not Found</h2>' };
  if (health === 'fail') {
    // SABnzbd has no failing answer of its own: a broken one fails as CherryPy does on an unhandled error.
    return { status: 500, headers: { 'content-type': 'text/html;charset=utf-8' }, body: '<!DOCTYPE html>\n<html>\n<head><title>500 Internal Server Error</title></head>\n<body><h2>500 Internal Server Error</h2></body>\n</html>\n' };
  }
  const mode = request.query.get('mode') ?? '';
  // interface.check_apikey: mode=version and mode=auth need no key.
  if (mode === 'version') return report({ version: MEDIA_APPS.sabnzbd.version });
  if (mode === 'auth') return report({ auth: 'apikey' });
  const key = request.query.get('apikey');
  if (!key) return report({ status: false, error: 'API Key Required' });
  if (key !== config.apiKey) return report({ status: false, error: 'API Key Incorrect' });
  if (mode === 'fullstatus') {
    return report({ status: {
      localipv4: config.address, ipv6: null, publicipv4: null, dnslookup: null, folders: [], cpumodel: 'lab', pystone: 0, loadavg: '0.00 | 0.00 | 0.00',
      downloaddir: '/var/lib/sabnzbd/Downloads/incomplete', completedir: '/var/lib/sabnzbd/Downloads/complete', loglevel: '1', configfn: '/var/lib/sabnzbd/sabnzbd.ini',
      uptime: `${Math.floor(process.uptime())}s`, pid: process.pid, have_warnings: '0', warnings: [], servers: [],
    } });
  }
  return report({ status: false, error: 'not implemented' });
}

export function answer(config: StandinConfig, request: Request, health: Health): Answer {
  switch (config.app) {
    case 'jellyfin': return jellyfin(config, request, health);
    case 'sonarr': case 'radarr': case 'prowlarr': return servarr(config, request, health, config.app);
    case 'bazarr': return bazarr(config, request, health);
    case 'sabnzbd': return sabnzbd(config, request, health);
  }
}

function serve(config: StandinConfig): void {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const control = readControl(config.controlFile);
    const health = control.health ?? 'ok';
    const from = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (health === 'hang') {
      console.log(`${new Date().toISOString()} ${from} ${req.method} ${req.url} -> hang`);
      return; // never answered; the socket stays open until the client gives up
    }
    const reply = () => {
      const a = answer(config, { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers }, health);
      console.log(`${new Date().toISOString()} ${from} ${req.method} ${req.url} -> ${a.status}`);
      res.writeHead(a.status, { ...a.headers, 'content-length': String(Buffer.byteLength(a.body)) });
      res.end(req.method === 'HEAD' ? undefined : a.body);
    };
    const delayMs = Math.max(0, Number(control.delayMs ?? 0));
    if (delayMs > 0) setTimeout(reply, delayMs);
    else reply();
  });
  // A hung request must stay hung for as long as the client waits, whatever Node's defaults.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  const listen = config.listen ?? '0.0.0.0';
  server.listen(config.port, listen, () => {
    const bound = server.address();
    console.log(`${config.app} listening on ${listen}:${typeof bound === 'object' && bound ? bound.port : config.port}`);
  });
  server.on('error', (error) => {
    console.error(`${config.app}: ${error.message}`);
    process.exit(1);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(JSON.parse(process.argv[2] ?? '{}') as StandinConfig);
