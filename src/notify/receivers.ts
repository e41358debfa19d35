/**
 * Where the controller's notifications go: the inventory's `monitoring.receivers` (by name, each
 * with a `type`: webhook, ntfy, email, discord, slack), `monitoring.routes` and
 * `monitoring.default_receiver` — the same settings `cistern monitoring generate` turns into
 * alertmanager.yml (src/monitoring/config-schema.ts defines them for the inventory; this module
 * reads the same shape). Secrets are never values: `bearer_token_file`, `token_file`,
 * `password_file` and `webhook_url_file` name files, read when a message is sent.
 *
 * Validated in steps — schema, then rules — collecting every finding; each message begins with
 * the field path. Pure: no file is read here.
 *
 * `notifications_from: alertmanager` leaves the problems the generated Prometheus rules see too
 * (src/monitoring/shared-alerts.ts) to Alertmanager: the router sends them to no receiver.
 */
import { z } from 'zod';
import { DEFAULT_NOTIFICATIONS_FROM, NOTIFICATIONS_FROM } from '../monitoring/config-schema.js';
import { controllerMuted } from '../monitoring/shared-alerts.js';
import type { Target } from './engine.js';
import type { Alert } from './types.js';

/** Prometheus' duration syntax: 30s, 5m, 1h30m, 26h, 7d. */
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const HOST_PORT = /^([^\s:]+):(\d{1,5})$/;

const duration = z.string().regex(DURATION, { error: 'a duration like 30s, 5m or 26h' });
const file = z.string().min(1);
const url = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });
const sendResolved = { send_resolved: z.boolean().optional() };

const receiverSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('webhook'), url, bearer_token_file: file.optional(), ...sendResolved }),
  z.looseObject({ type: z.literal('ntfy'), url, token_file: file.optional(), ...sendResolved }),
  z.looseObject({
    type: z.literal('email'), to: z.string().min(3), from: z.string().min(3),
    smarthost: z.string().regex(HOST_PORT, { error: 'HOST:PORT of the SMTP server, e.g. smtp.example.org:587' }),
    username: z.string().optional(), password_file: file.optional(), require_tls: z.boolean().optional(), ...sendResolved,
  }),
  z.looseObject({ type: z.literal('discord'), webhook_url_file: file, ...sendResolved }),
  z.looseObject({ type: z.literal('slack'), webhook_url_file: file, channel: z.string().optional(), ...sendResolved }),
]);

const labelMap = z.record(z.string().regex(LABEL, { error: 'a Prometheus label name' }), z.string());

const routeSchema = z.looseObject({
  receiver: z.string().regex(NAME),
  severity: z.enum(['critical', 'warning', 'info']).optional(),
  alerts: z.array(z.string()).optional(),
  match: labelMap.optional(),
  match_re: labelMap.optional(),
  continue: z.boolean().optional(),
  group_wait: duration.optional(),
  repeat_interval: duration.optional(),
});

const monitoringSchema = z.looseObject({
  receivers: z.record(z.string().regex(NAME, { error: 'a receiver name: letters, digits, \'.\', \'_\' and \'-\'' }), receiverSchema).optional(),
  routes: z.array(routeSchema).optional(),
  default_receiver: z.string().optional(),
  notifications_from: z.enum(NOTIFICATIONS_FROM, { error: `one of ${NOTIFICATIONS_FROM.join(', ')}` }).optional(),
});

/** A file holding a secret; relative paths are read from the inventory's folder. */
export interface SecretFile { file: string }

export type Integration =
  | { type: 'webhook'; url: string; bearerToken?: SecretFile }
  | { type: 'ntfy'; url: string; token?: SecretFile }
  | { type: 'email'; to: string; from: string; host: string; port: number; username?: string; password?: SecretFile; requireTls: boolean }
  | { type: 'discord'; url: SecretFile }
  | { type: 'slack'; url: SecretFile; channel?: string };

export interface ReceiverConfig { name: string; sendResolved: boolean; integration: Integration }

export interface RouteConfig {
  receiver: string;
  severity?: string;
  alerts?: readonly string[];
  match?: Readonly<Record<string, string>>;
  matchRe?: ReadonlyArray<readonly [string, RegExp]>;
  continue: boolean;
  groupWaitMs?: number;
  repeatIntervalMs?: number;
}

export interface NotifyConfig {
  receivers: ReceiverConfig[];
  routes: RouteConfig[];
  /** Gets alerts no route took: `default_receiver`, else the first receiver. */
  defaultReceiver: string | undefined;
  /** Alert names left to Alertmanager (`notifications_from: alertmanager`): sent to nobody. */
  muted: readonly string[];
}

export interface NotifyConfigResult { value: NotifyConfig | undefined; warnings: string[]; errors: string[] }

export function parsePromDuration(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(n) * (UNIT_MS[unit as string] ?? 0);
  return ms;
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : `${out}.${String(p)}`), 'monitoring');
}

/** The notification settings in the inventory's `monitoring` section (as parsed YAML). No receivers is valid: nothing is sent. */
export function notifyConfig(monitoring: unknown): NotifyConfigResult {
  const warnings: string[] = [];
  const errors: string[] = [];
  const parsed = monitoringSchema.safeParse(monitoring ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors.push(`${pathText(issue.path)}: ${issue.message}`);
    return { value: undefined, warnings, errors };
  }
  const data = parsed.data;
  const receivers: ReceiverConfig[] = Object.entries(data.receivers ?? {}).map(([name, r]) => {
    const sendResolved = r.send_resolved ?? true;
    switch (r.type) {
      case 'webhook': return { name, sendResolved, integration: { type: 'webhook', url: r.url, ...(r.bearer_token_file && { bearerToken: { file: r.bearer_token_file } }) } };
      case 'ntfy': return { name, sendResolved, integration: { type: 'ntfy', url: r.url, ...(r.token_file && { token: { file: r.token_file } }) } };
      case 'discord': return { name, sendResolved, integration: { type: 'discord', url: { file: r.webhook_url_file } } };
      case 'slack': return { name, sendResolved, integration: { type: 'slack', url: { file: r.webhook_url_file }, ...(r.channel !== undefined && { channel: r.channel }) } };
      case 'email': {
        const [, host = '', port = '0'] = HOST_PORT.exec(r.smarthost) ?? [];
        if (Number(port) < 1 || Number(port) > 65535) errors.push(`${pathText(['receivers', name, 'smarthost'])}: port ${port} is out of range`);
        if (r.password_file !== undefined && r.username === undefined) errors.push(`${pathText(['receivers', name])}: password_file needs username`);
        return {
          name, sendResolved, integration: {
            type: 'email', to: r.to, from: r.from, host, port: Number(port), requireTls: r.require_tls ?? true,
            ...(r.username !== undefined && { username: r.username }), ...(r.password_file !== undefined && { password: { file: r.password_file } }),
          },
        };
      }
    }
  });
  const names = new Set(receivers.map((r) => r.name));
  const known = (name: string, path: PropertyKey[]) => {
    if (!names.has(name)) errors.push(`${pathText(path)}: no receiver named "${name}" under monitoring.receivers`);
  };
  const routes: RouteConfig[] = (data.routes ?? []).map((route, i) => {
    known(route.receiver, ['routes', i, 'receiver']);
    const matchRe = Object.entries(route.match_re ?? {}).flatMap(([label, source]) => {
      try { return [[label, new RegExp(`^(?:${source})$`)] as const]; } catch {
        errors.push(`${pathText(['routes', i, 'match_re', label])}: "${source}" is not a valid regular expression`);
        return [];
      }
    });
    return {
      receiver: route.receiver, continue: route.continue ?? false,
      ...(route.severity && { severity: route.severity }), ...(route.alerts && { alerts: route.alerts }), ...(route.match && { match: route.match }),
      ...(matchRe.length > 0 && { matchRe }),
      ...(route.group_wait !== undefined && { groupWaitMs: parsePromDuration(route.group_wait) }),
      ...(route.repeat_interval !== undefined && { repeatIntervalMs: parsePromDuration(route.repeat_interval) }),
    };
  });
  if (data.default_receiver !== undefined) known(data.default_receiver, ['default_receiver']);
  for (const [i, r] of routes.entries()) if (r.repeatIntervalMs === 0) errors.push(`${pathText(['routes', i, 'repeat_interval'])}: must be above zero`);
  if (errors.length > 0) return { value: undefined, warnings, errors };
  const muted = controllerMuted(data.notifications_from ?? DEFAULT_NOTIFICATIONS_FROM);
  return { value: { receivers, routes, defaultReceiver: data.default_receiver ?? receivers[0]?.name, muted }, warnings, errors };
}

/** The labels routes match on: alertname, severity, and the alert's own (server, service). */
export function routingLabels(alert: Alert): Record<string, string> {
  return { ...alert.labels, alertname: alert.name, severity: alert.severity };
}

function matches(route: RouteConfig, labels: Record<string, string>): boolean {
  if (route.severity !== undefined && labels.severity !== route.severity) return false;
  if (route.alerts && !route.alerts.includes(labels.alertname ?? '')) return false;
  for (const [label, value] of Object.entries(route.match ?? {})) if (labels[label] !== value) return false;
  for (const [label, re] of route.matchRe ?? []) if (!re.test(labels[label] ?? '')) return false;
  return true;
}

/**
 * Routes as Alertmanager takes them: in order, the first match wins unless it says `continue`;
 * an alert no route took goes to the default receiver. Timing a route does not set is the
 * policy's. A muted alert goes nowhere; a receiver told it fires before it was muted still gets
 * its resolved message (the engine's promise).
 */
export function router(config: NotifyConfig, defaults: { groupWaitMs: number; repeatIntervalMs: number }): (alert: Alert) => Target[] {
  const target = (receiver: string, route?: RouteConfig): Target => ({
    receiver, groupWaitMs: route?.groupWaitMs ?? defaults.groupWaitMs, repeatIntervalMs: route?.repeatIntervalMs ?? defaults.repeatIntervalMs,
  });
  return (alert) => {
    if (config.muted.includes(alert.name)) return [];
    const labels = routingLabels(alert);
    const out: Target[] = [];
    for (const route of config.routes) {
      if (!matches(route, labels)) continue;
      out.push(target(route.receiver, route));
      if (!route.continue) return out;
    }
    if (out.length === 0 && config.defaultReceiver !== undefined) out.push(target(config.defaultReceiver));
    return out;
  };
}
