/**
 * What Cistern adds to the inventory's `monitoring:` section (the original keys, prometheus_port
 * and friends, stay as they were): scrape timing, exporter ports, alert thresholds, where
 * Alertmanager sends alerts, and whether it or the controller notifies the problems both see. Receivers never hold a secret: every secret is a `*_file` path the
 * admin fills, so inventory.yaml can live in git and the generated alertmanager.yml holds none.
 */
import { z } from 'zod';

/** Prometheus' duration syntax: 30s, 5m, 1h30m, 26h, 7d. */
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;
/** Prometheus label names. */
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const promDuration = z.string().regex(DURATION, { error: 'a duration like 30s, 5m or 26h' });
const port = z.int().min(1).max(65535);
const secretFile = (what: string) => z.string().min(1).describe(`A file holding ${what}; relative paths are relative to the generated folder. Fill it yourself: it is never generated`);
const httpsUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

/** Who notifies the problems the controller and the Prometheus rules both see: shared-alerts.ts. */
export const NOTIFICATIONS_FROM = ['controller', 'alertmanager', 'both'] as const;
export type NotificationsFrom = (typeof NOTIFICATIONS_FROM)[number];

/**
 * The controller: it runs wherever Cistern does, while Alertmanager exists only if the admin runs
 * the generated setup; and it tells of a server or service at once, from events, not after a
 * scrape, an evaluation and a `for:`.
 */
export const DEFAULT_NOTIFICATIONS_FROM: NotificationsFrom = 'controller';

export const ALERT_THRESHOLD_DEFAULTS = {
  server_down_after: '60s',
  disk_full_percent: 90,
  temperature_celsius: 80,
  backup_max_age: '26h',
  certificate_min_days: 14,
  restart_loop_restarts: 3,
  restart_loop_window: '15m',
  heartbeat_lag_seconds: 2,
} as const;

export const alertThresholdsSchema = z.looseObject({
  server_down_after: promDuration.optional().describe(`No heartbeat for this long: ServerDown (default ${ALERT_THRESHOLD_DEFAULTS.server_down_after})`),
  disk_full_percent: z.number().min(1).max(100).optional().describe(`A file system this full: DiskAlmostFull (default ${ALERT_THRESHOLD_DEFAULTS.disk_full_percent})`),
  temperature_celsius: z.number().min(20).max(150).optional().describe(`A sensor this hot: HighTemperature (default ${ALERT_THRESHOLD_DEFAULTS.temperature_celsius})`),
  backup_max_age: promDuration.optional().describe(`No successful backup for this long: StaleBackup (default ${ALERT_THRESHOLD_DEFAULTS.backup_max_age})`),
  certificate_min_days: z.number().min(1).max(365).optional().describe(`A certificate expiring within this many days: CertificateExpiring (default ${ALERT_THRESHOLD_DEFAULTS.certificate_min_days})`),
  restart_loop_restarts: z.int().min(2).max(100).optional().describe(`This many restarts of a service within restart_loop_window: RestartLoop (default ${ALERT_THRESHOLD_DEFAULTS.restart_loop_restarts})`),
  restart_loop_window: promDuration.optional().describe(`Default ${ALERT_THRESHOLD_DEFAULTS.restart_loop_window}`),
  heartbeat_lag_seconds: z.number().positive().max(300).optional().describe(`Heartbeats this late (90th percentile): HeartbeatLag (default ${ALERT_THRESHOLD_DEFAULTS.heartbeat_lag_seconds})`),
});

const receiverBase = { send_resolved: z.boolean().optional().describe('Also notify when the alert resolves (default true)') };

export const receiverSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('webhook'),
    url: httpsUrl.describe('Where Alertmanager POSTs its JSON. It is written into alertmanager.yml: put no secret in it, use bearer_token_file'),
    bearer_token_file: secretFile('the bearer token sent with each request').optional(),
    ...receiverBase,
  }),
  z.looseObject({
    type: z.literal('ntfy'),
    url: httpsUrl.describe('The topic URL, e.g. https://ntfy.sh/my-fleet-alerts. It is written into alertmanager.yml: protect the topic with an access token'),
    token_file: secretFile('an ntfy access token (tk_...)').optional(),
    ...receiverBase,
  }),
  z.looseObject({
    type: z.literal('email'),
    to: z.string().min(3),
    from: z.string().min(3),
    smarthost: z.string().regex(/^[^\s:]+:\d{1,5}$/, { error: 'HOST:PORT of the SMTP server, e.g. smtp.example.org:587' }),
    username: z.string().optional(),
    password_file: secretFile('the SMTP password').optional(),
    require_tls: z.boolean().optional(),
    ...receiverBase,
  }),
  z.looseObject({
    type: z.literal('discord'),
    webhook_url_file: secretFile('the Discord webhook URL (https://discord.com/api/webhooks/ID/TOKEN)'),
    ...receiverBase,
  }),
  z.looseObject({
    type: z.literal('slack'),
    webhook_url_file: secretFile('the Slack incoming-webhook URL'),
    channel: z.string().optional(),
    ...receiverBase,
  }),
]);
export type Receiver = z.infer<typeof receiverSchema>;
export const RECEIVER_TYPES = ['webhook', 'ntfy', 'email', 'discord', 'slack'] as const;

const labelMap = z.record(z.string().regex(LABEL, { error: 'a Prometheus label name' }), z.string());

export const routeSchema = z.looseObject({
  receiver: z.string().regex(NAME).describe('A name under monitoring.receivers'),
  severity: z.enum(['critical', 'warning', 'info']).optional().describe('Only alerts of this severity'),
  alerts: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/)).optional().describe('Only these alerts, e.g. [ServerDown, DiskAlmostFull]'),
  match: labelMap.optional().describe('Label equals value, e.g. {server: eden}'),
  match_re: labelMap.optional().describe('Label matches a regular expression, e.g. {location: "home|office"}'),
  continue: z.boolean().optional().describe('Also try the routes after this one'),
  group_by: z.array(z.string().regex(LABEL)).optional(),
  group_wait: promDuration.optional(),
  group_interval: promDuration.optional(),
  repeat_interval: promDuration.optional(),
});
export type Route = z.infer<typeof routeSchema>;

/** The keys Cistern adds under `monitoring:`; spread into the inventory's monitoring schema. */
export const monitoringFields = {
  scrape_interval: promDuration.optional().describe('How often Prometheus scrapes each target (default 30s)'),
  evaluation_interval: promDuration.optional().describe('How often Prometheus evaluates the alert rules (default 30s)'),
  node_exporter_port: z.union([port, z.literal(false)]).optional().describe('node_exporter on every server (default 9100); false: none'),
  exportarr: z.record(z.string().regex(NAME), z.union([port, z.literal(false)])).optional()
    .describe('The port of exportarr per app (default sonarr 9707, radarr 9708, prowlarr 9709, bazarr 9710, sabnzbd 9711); false: not scraped'),
  alerts: alertThresholdsSchema.optional(),
  receivers: z.record(z.string().regex(NAME, { error: 'a receiver name: letters, digits, \'.\', \'_\' and \'-\'' }), receiverSchema).optional()
    .describe('Where alerts go, by name. Secrets are *_file paths, never values'),
  routes: z.array(routeSchema).optional().describe('Tried in order; the first that matches gets the alert (unless it says continue)'),
  default_receiver: z.string().regex(NAME).optional().describe('Gets alerts no route took (default: the first receiver)'),
  notifications_from: z.enum(NOTIFICATIONS_FROM).optional()
    .describe(`Who notifies the problems both the controller and the Prometheus rules see (server down, service down, failover): controller, alertmanager or both (default ${DEFAULT_NOTIFICATIONS_FROM}). See docs/notifications.md`),
};
