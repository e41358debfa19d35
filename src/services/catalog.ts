/**
 * The media stack Cistern knows without being told: eight service definitions, checked against
 * the applications' own source. Each definition cites where its facts come from (repository and
 * path); "unverified" marks what no source confirmed. Resource `needs` and `start_grace_s` are
 * Cistern's own reservations and patience, not facts about the apps.
 *
 * Probes are written to be run by the agent on the same box (127.0.0.1), which passes the
 * address and host-name checks Transmission and SABnzbd apply to every request.
 *
 * `needs.media`: the services that read or write the media library (Jellyfin streams it, the
 * *arr apps and Bazarr write into it, the download clients fill it) run only where the fleet's
 * media root is mounted and healthy (src/storage). Prowlarr and Jellyseerr touch no media files.
 */
import type { AnswerRule, ServiceDefinition } from './schema.js';

const DOWNLOAD_CLIENTS = ['transmission', 'sabnzbd'];

/**
 * Sonarr, Radarr and Prowlarr share one code base (NzbDrone).
 * - `GET /ping`: anonymous; reads the config table, answers 200 {"status":"OK"} or 500
 *   {"status":"Error"} — Sonarr/Sonarr src/Sonarr.Http/Ping/PingController.cs,
 *   Radarr/Radarr src/Radarr.Http/Ping/PingController.cs, Prowlarr/Prowlarr src/Prowlarr.Http/Ping/PingController.cs.
 * - While starting, every request gets 503 "Sonarr is starting up, please try again later" —
 *   Sonarr/Sonarr src/Sonarr.Http/Middleware/StartingUpMiddleware.cs (Radarr's and Prowlarr's
 *   copies of this middleware: unverified).
 * - API key: header `X-Api-Key` or query `apikey`; without a valid key the API answers 401 —
 *   Sonarr/Sonarr src/Sonarr.Http/Authentication/AuthenticationBuilderExtensions.cs and
 *   ApiKeyAuthenticationHandler.cs.
 * - `GET /api/v3/system/status` — Sonarr/Sonarr src/Sonarr.Api.V3/System/SystemController.cs;
 *   Prowlarr's is under /api/v1 (src/Prowlarr.Api.V1/System/SystemController.cs, path only).
 * - The key lives in config.xml in the app folder: `<Config><ApiKey>…</ApiKey>…</Config>`, read as
 *   the one `ApiKey` element under `Config`, trimmed, and generated and written there on first
 *   start when missing — Sonarr/Sonarr src/NzbDrone.Core/Configuration/ConfigFileProvider.cs
 *   (ApiKey, GetValue, CONFIG_ELEMENT_NAME). An `Auth:ApiKey` option (SONARR__AUTH__APIKEY)
 *   wins over the file (same file, `_authOptions.ApiKey ?? …`): then the agent needs
 *   --service-keys. Radarr's and Prowlarr's copies of this provider: unverified.
 */
function arrProbes(app: string, api: 'v1' | 'v3'): Pick<ServiceDefinition, 'probe' | 'status_probe' | 'key_source'> {
  const starting: AnswerRule = {
    status: 503, body_contains: 'starting up', verdict: 'starting', detail: `${app} is starting up (HTTP 503); wait`,
  };
  return {
    probe: {
      kind: 'http', method: 'GET', path: '/ping',
      expect: { status: 200, json: { status: 'OK' } },
      answers: [
        starting,
        { status: 500, json: { status: 'Error' }, verdict: 'unhealthy', detail: `${app} cannot read its database (ping answered {"status":"Error"})` },
      ],
    },
    status_probe: {
      kind: 'http', method: 'GET', path: `/api/${api}/system/status`,
      auth: { kind: 'header', name: 'X-Api-Key' },
      expect: { status: 200, content_type: 'application/json' },
      answers: [starting],
      version_field: 'version',
    },
    key_source: { file: 'config.xml', format: 'xml', field: 'ApiKey' },
  };
}

/** Transmission's refusals, in the order libtransmission/rpc-server.cc handle_request checks them. */
const TRANSMISSION_REFUSALS: AnswerRule[] = [
  {
    status: 403, verdict: 'misconfigured',
    detail: 'Transmission refused the agent\'s address (rpc-whitelist, default 127.0.0.1 only) or locked out logins after failed attempts (anti-brute-force); report, do not restart',
  },
  {
    status: 421, verdict: 'misconfigured',
    detail: 'Transmission did not accept the Host header (rpc-host-whitelist; IP addresses and localhost always pass); report, do not restart',
  },
];

export const CATALOG: readonly ServiceDefinition[] = [
  /*
   * Jellyfin
   * - Port 8096 (HTTPS 8920): jellyfin/jellyfin MediaBrowser.Common/Net/NetworkConfiguration.cs DefaultHttpPort.
   * - `/health` is ASP.NET Core's health check (Jellyfin.Server/Startup.cs MapHealthChecks, under
   *   the BaseUrl); its default writer answers text/plain with the status word, 200 for Healthy and
   *   Degraded, 503 for Unhealthy — dotnet/aspnetcore src/Middleware/HealthChecks/src/HealthCheckOptions.cs.
   * - During start-up and migrations (10.11+) a setup server answers instead: `/health` says
   *   Degraded ("still starting up"), or Unhealthy once start-up failed; every other path 503 with
   *   Retry-After — Jellyfin.Server/ServerSetupApp/SetupServer.cs. After it, until core start-up
   *   completes, requests get 503 text/html "server is loading" —
   *   Jellyfin.Server/Middleware/ServerStartupMessageMiddleware.cs.
   * - Key: `Authorization: MediaBrowser Token="KEY"` (also X-Emby-Token, ?api_key=) —
   *   Jellyfin.Server.Implementations/Security/AuthorizationContext.cs. `GET /System/Info` needs
   *   it — Jellyfin.Api/Controllers/SystemController.cs. API keys are rows of its database, not
   *   a file the agent could read: no key_source, the key comes from the agent's --service-keys.
   * - NixOS: unit jellyfin, `--datadir /var/lib/jellyfin`, cache /var/cache/jellyfin, group video
   *   and DeviceAllow char-drm for hardware transcoding — NixOS/nixpkgs nixos/modules/services/misc/jellyfin.nix.
   * - `/metrics` only when EnableMetrics is set — Startup.cs (that it is off by default: unverified).
   * - Database files (data/jellyfin.db from 10.11), 8 GB RAM recommendation: unverified.
   */
  {
    name: 'jellyfin',
    description: 'media server: streams and transcodes the library',
    port: 8096,
    probe: {
      kind: 'http', method: 'GET', path: '/health',
      expect: { status: 200, body: 'Healthy' },
      answers: [
        { status: 200, body: 'Degraded', verdict: 'starting', detail: 'Jellyfin is starting up or migrating its database ("Degraded"); wait, never restart: a restart mid-migration can ruin the database' },
        { status: 503, body: 'Unhealthy', verdict: 'unhealthy', detail: 'Jellyfin says "Unhealthy": its database check failed, or start-up failed (see its log)' },
        { status: 503, verdict: 'starting', detail: 'Jellyfin is still loading (HTTP 503 before start-up completes); wait' },
      ],
    },
    status_probe: {
      kind: 'http', method: 'GET', path: '/System/Info',
      auth: { kind: 'header', name: 'Authorization', format: 'MediaBrowser Token="{key}"' },
      expect: { status: 200, content_type: 'application/json' },
      answers: [{ status: 503, verdict: 'starting', detail: 'Jellyfin is still loading (HTTP 503); wait' }],
      version_field: 'Version',
    },
    state_dir: '/var/lib/jellyfin',
    single_writer: true,
    needs: { memory_mb: 2048, cpu: 2, disk_gb: 20, media: true },
    prefers: {
      profiles: ['intel-quicksync', 'nvidia', 'amd-vaapi'],
      reason: 'hardware transcoding: software transcoding, tone-mapping and HEVC/AV1 decoding are very CPU-heavy',
    },
    systemd_unit: 'jellyfin.service',
    metrics: { path: '/metrics', note: 'only when EnableMetrics is true in system.xml; exportarr does not cover Jellyfin' },
    start_grace_s: 120,
  },
  /*
   * Sonarr — port 8989: Sonarr/Sonarr src/NzbDrone.Core/Configuration/ConfigFileProvider.cs.
   * NixOS: unit sonarr, dataDir /var/lib/sonarr/.config/NzbDrone — nixos/modules/services/misc/sonarr.nix.
   * Files sonarr.db, logs.db, config.xml: unverified. Affinity: it imports finished downloads from
   * the download client's folder, best on the same filesystem (hardlinks): reasoned, not sourced.
   */
  {
    name: 'sonarr',
    description: 'TV series manager',
    port: 8989,
    ...arrProbes('Sonarr', 'v3'),
    state_dir: '/var/lib/sonarr/.config/NzbDrone',
    single_writer: true,
    needs: { memory_mb: 512, cpu: 0.5, disk_gb: 2, media: true },
    affinity: [{ services: DOWNLOAD_CLIENTS, scope: 'storage', strength: 'prefer', reason: 'imports finished downloads from the download client\'s folder; moves and hardlinks need the same storage' }],
    systemd_unit: 'sonarr.service',
    metrics: { exportarr: 'sonarr' },
    start_grace_s: 90,
  },
  /*
   * Radarr — port 7878: Radarr/Radarr src/NzbDrone.Core/Configuration/ConfigFileProvider.cs.
   * NixOS: unit radarr, dataDir /var/lib/radarr/.config/Radarr — nixos/modules/services/misc/radarr.nix.
   */
  {
    name: 'radarr',
    description: 'movie manager',
    port: 7878,
    ...arrProbes('Radarr', 'v3'),
    state_dir: '/var/lib/radarr/.config/Radarr',
    single_writer: true,
    needs: { memory_mb: 512, cpu: 0.5, disk_gb: 2, media: true },
    affinity: [{ services: DOWNLOAD_CLIENTS, scope: 'storage', strength: 'prefer', reason: 'imports finished downloads from the download client\'s folder; moves and hardlinks need the same storage' }],
    systemd_unit: 'radarr.service',
    metrics: { exportarr: 'radarr' },
    start_grace_s: 90,
  },
  /*
   * Prowlarr — port 9696 (DEFAULT_PORT): Prowlarr/Prowlarr src/NzbDrone.Core/Configuration/ConfigFileProvider.cs.
   * NixOS: unit prowlarr, DynamicUser with StateDirectory prowlarr, so the state is really in
   * /var/lib/private/prowlarr (/var/lib/prowlarr links there) — nixos/modules/services/misc/prowlarr.nix.
   */
  {
    name: 'prowlarr',
    description: 'indexer manager for the *arr apps',
    port: 9696,
    ...arrProbes('Prowlarr', 'v1'),
    state_dir: '/var/lib/private/prowlarr',
    single_writer: true,
    needs: { memory_mb: 256, cpu: 0.25, disk_gb: 1 },
    systemd_unit: 'prowlarr.service',
    metrics: { exportarr: 'prowlarr' },
    start_grace_s: 90,
  },
  /*
   * Bazarr
   * - Port 6767 (general.port): morpheus65535/bazarr bazarr/app/config.py. API under /api —
   *   bazarr/api/__init__.py.
   * - `GET /api/system/ping` → {"status":"OK"}, unauthenticated — bazarr/api/system/ping.py.
   *   Versions without it (the version it arrived in, 1.5.2 per MEDIA-STACK.md: unverified) route
   *   any unknown path to the web app's index.html with 200 — bazarr/app/ui.py catch_all —
   *   or, with basic auth on, 401. Decision: a 200 text/html answer counts as healthy (the web
   *   server and Flask answer; the database is not checked), so old versions are not restarted in
   *   a loop; the status probe, when the agent has the key, is the deeper check.
   * - Key: header X-API-KEY or ?apikey=, else 401 — bazarr/api/utils.py authenticate.
   *   `GET /api/system/status` → {"data": {...}}; it asks Sonarr and Radarr for their versions, so
   *   it can be slow — bazarr/api/system/status.py.
   * - NixOS: unit bazarr, dataDir /var/lib/bazarr passed as --config — nixos/modules/services/misc/bazarr.nix.
   *   db/bazarr.db: unverified.
   * - The key: `auth.apikey` of CONFIG_DIR/config/config.yaml (Dynaconf, YAML; keys written in
   *   lower case), generated on first start when missing — bazarr/app/config.py
   *   (config_yaml_file, Validator('auth.apikey', …), write_config). path_mappings let it reach media under
   *   other paths — bazarr/app/config.py.
   * - That exportarr scrapes of Bazarr are slow (hence 60 s): unverified.
   */
  {
    name: 'bazarr',
    description: 'subtitle manager for Sonarr and Radarr',
    port: 6767,
    probe: {
      kind: 'http', method: 'GET', path: '/api/system/ping',
      expect: { status: 200, json: { status: 'OK' } },
      answers: [{
        status: 200, content_type: 'text/html', verdict: 'healthy',
        detail: 'Bazarr answered with its web page: a version before /api/system/ping; alive, database not checked',
      }],
    },
    status_probe: {
      kind: 'http', method: 'GET', path: '/api/system/status',
      auth: { kind: 'header', name: 'X-API-KEY' },
      expect: { status: 200, json_keys: ['data'] },
      timeout_ms: 15_000,
      version_field: 'data.bazarr_version',
    },
    key_source: { file: 'config/config.yaml', format: 'yaml', field: 'auth.apikey' },
    state_dir: '/var/lib/bazarr',
    single_writer: true,
    needs: { memory_mb: 384, cpu: 0.5, disk_gb: 1, media: true },
    affinity: [{ services: ['sonarr', 'radarr'], scope: 'storage', strength: 'prefer', reason: 'writes subtitle files next to the media Sonarr and Radarr manage (path_mappings can bridge different mounts)' }],
    systemd_unit: 'bazarr.service',
    metrics: { exportarr: 'bazarr', scrape_interval_s: 60 },
    start_grace_s: 90,
  },
  /*
   * Transmission
   * - Port 9091, rpc-url /transmission/, rpc-whitelist default 127.0.0.1, rpc-host-whitelist on
   *   by default, anti-brute-force locks logins until restart — transmission/transmission
   *   docs/Editing-Configuration-Files.md.
   * - handle_request checks, in order: brute-force lockout (403), IP whitelist (403), Basic auth
   *   (401 with WWW-Authenticate), path outside rpc-url (301), Host whitelist (421; skipped when a
   *   password is set), unknown path (404), missing session id (409 with X-Transmission-Session-Id;
   *   REQUIRE_SESSION_ID is always defined) — libtransmission/rpc-server.cc. The 409 is the healthy
   *   cheap answer; the status probe repeats its request with the header (docs/rpc-spec.md 2.3.1).
   * - `session-get`: kebab-case method names are deprecated since 4.1 but accepted until 5.0 —
   *   docs/rpc-spec.md. Transmission has no API key: its credential is the RPC user and password,
   *   and settings.json keeps only a salted hash of the password (rpc-password), so no key_source:
   *   the user and password come from the agent's --service-keys.
   * - NixOS: unit transmission, settings in /var/lib/transmission/.config/transmission-daemon,
   *   rpc-bind-address 127.0.0.1; settings.json is rewritten from Nix at every start —
   *   nixos/modules/services/torrent/transmission.nix.
   * - exportarr has no Transmission exporter (its README lists the apps it covers).
   */
  {
    name: 'transmission',
    description: 'BitTorrent download client',
    port: 9091,
    probe: {
      kind: 'http', method: 'POST', path: '/transmission/rpc',
      auth: { kind: 'basic' },
      expect: { status: 409, header: 'X-Transmission-Session-Id' },
      answers: TRANSMISSION_REFUSALS,
    },
    status_probe: {
      kind: 'http', method: 'POST', path: '/transmission/rpc',
      headers: { 'Content-Type': 'application/json' },
      body: '{"method":"session-get","arguments":{"fields":["version"]}}',
      auth: { kind: 'basic' },
      retry_with_header: 'X-Transmission-Session-Id',
      expect: { status: 200, json: { result: 'success' } },
      answers: TRANSMISSION_REFUSALS,
      version_field: 'arguments.version',
    },
    state_dir: '/var/lib/transmission/.config/transmission-daemon',
    single_writer: true,
    needs: { memory_mb: 256, cpu: 0.5, disk_gb: 1, media: true },
    prefers: { storage_heavy: true, reason: 'downloads land on its own disks' },
    systemd_unit: 'transmission.service',
    start_grace_s: 60,
  },
  /*
   * SABnzbd
   * - Port 8080, host 127.0.0.1 (DEF_PORT, DEF_HOST): sabnzbd/sabnzbd sabnzbd/constants.py.
   *   history1.db (DB_HISTORY_NAME) — same file.
   * - `mode=version` (and auth) skip the API key check — sabnzbd/interface.py MainPage.api;
   *   other modes without the key answer 200 with "API Key Required" / "API Key Incorrect", and
   *   an address outside the local ranges or a Host failing the hostname check gets 403
   *   "Access denied" — sabnzbd/interface.py check_apikey, check_access, check_hostname.
   * - `mode=fullstatus` (API level 2) with `skip_dashboard`; errors are {"status": false,
   *   "error": ...} — sabnzbd/api.py.
   * - NixOS: unit sabnzbd, config /var/lib/sabnzbd/sabnzbd.ini, home /var/lib/sabnzbd —
   *   nixos/modules/services/networking/sabnzbd.nix. Nixarr's port 6336: unverified.
   * - The key: `api_key` of the `[misc]` section of sabnzbd.ini (ConfigObj), generated when
   *   missing — sabnzbd/cfg.py `api_key = OptionStr("misc", "api_key", create_api_key())`.
   */
  {
    name: 'sabnzbd',
    description: 'Usenet download client',
    port: 8080,
    probe: {
      kind: 'http', method: 'GET', path: '/api?mode=version&output=json',
      expect: { status: 200, json_keys: ['version'] },
      answers: [{ status: 403, verdict: 'misconfigured', detail: 'SABnzbd denied access: the agent\'s address is outside its local ranges, or the Host name failed its hostname check; report, do not restart' }],
    },
    status_probe: {
      kind: 'http', method: 'GET', path: '/api?mode=fullstatus&skip_dashboard=1&output=json',
      auth: { kind: 'query', name: 'apikey' },
      expect: { status: 200, json_keys: ['status'] },
      answers: [
        { body_contains: 'API Key', verdict: 'misconfigured', detail: 'SABnzbd refused the API key ("API Key Required" or "API Key Incorrect")' },
        { body_contains: 'Missing authentication', verdict: 'misconfigured', detail: 'SABnzbd has no API key enabled and wants a user name and password' },
        { status: 403, verdict: 'misconfigured', detail: 'SABnzbd denied access (local ranges or hostname check)' },
        { json: { status: false }, verdict: 'misconfigured', detail: 'SABnzbd refused the status call' },
      ],
    },
    key_source: { file: 'sabnzbd.ini', format: 'ini', field: 'misc.api_key' },
    state_dir: '/var/lib/sabnzbd',
    single_writer: true,
    needs: { memory_mb: 512, cpu: 1, disk_gb: 2, media: true },
    prefers: { storage_heavy: true, reason: 'downloads, repairs and unpacks on its own disks; CPU-bound while repairing' },
    systemd_unit: 'sabnzbd.service',
    metrics: { exportarr: 'sabnzbd' },
    start_grace_s: 60,
  },
  /*
   * Jellyseerr
   * - Port 5055 (PORT): Fallenbagel/jellyseerr server/index.ts, which runs its database
   *   migrations before it listens — refused connections right after a start are normal.
   * - `GET /api/v1/status/appdata` answers locally; `/api/v1/status` asks GitHub for releases, so
   *   it is no probe — server/routes/index.ts.
   * - Key: header X-Api-Key acts as the admin user; a missing or wrong key gets 403 (never 401)
   *   — server/middleware/auth.ts. `GET /api/v1/auth/me` needs a user — server/routes/auth.ts.
   * - NixOS: unit jellyseerr, DynamicUser with StateDirectory jellyseerr bound as its config
   *   folder, so the state is really in /var/lib/private/jellyseerr — nixos/modules/services/misc/jellyseerr.nix.
   *   db/db.sqlite3 and settings.json inside it: unverified.
   */
  {
    name: 'jellyseerr',
    description: 'request manager for Jellyfin',
    port: 5055,
    probe: {
      kind: 'http', method: 'GET', path: '/api/v1/status/appdata',
      expect: { status: 200, json_keys: ['appData'] },
    },
    status_probe: {
      kind: 'http', method: 'GET', path: '/api/v1/auth/me',
      auth: { kind: 'header', name: 'X-Api-Key' },
      expect: { status: 200, content_type: 'application/json' },
      answers: [{ status: 403, verdict: 'misconfigured', detail: 'Jellyseerr refused the API key (it answers 403 to a missing or wrong key)' }],
    },
    state_dir: '/var/lib/private/jellyseerr',
    single_writer: true,
    needs: { memory_mb: 512, cpu: 0.5, disk_gb: 1 },
    systemd_unit: 'jellyseerr.service',
    start_grace_s: 120,
  },
];

const BY_NAME = new Map(CATALOG.map((service) => [service.name, service]));

export function catalogService(name: string): ServiceDefinition | undefined {
  return BY_NAME.get(name);
}

export function isCatalogService(name: string): boolean {
  return BY_NAME.has(name);
}
