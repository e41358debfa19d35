/**
 * alertmanager.yml from the inventory's `monitoring.receivers`, `routes` and `default_receiver`.
 * No secret is written: each one stays in the file the inventory names (`*_file`), which
 * Alertmanager reads itself, relative to alertmanager.yml's folder. Pure.
 *
 * Written for Alertmanager 0.25 (Debian 12), which has no `url_file` for webhooks and no file
 * option for Discord: Discord goes through its Slack-compatible endpoint (`slack_configs` with
 * `api_url_file` = the receiver's file + `.slack`, holding the webhook URL followed by `/slack`),
 * and a webhook's or ntfy's URL is written as it is (rules refuse credentials in it).
 *
 * When the controller notifies the problems it shares with the rules (`notifications_from`,
 * shared-alerts.ts), the first route sends those alerts to a receiver with no integration: they
 * still show in Alertmanager (and still inhibit), but nobody is told twice.
 */
import { DEFAULT_NOTIFICATIONS_FROM, type NotificationsFrom, type Receiver, type Route } from './config-schema.js';
import { ALERT_NAMES } from './rules.js';
import { alertmanagerSilenced } from './shared-alerts.js';

export interface AlertmanagerInput {
  receivers?: Record<string, Receiver> | undefined;
  routes?: readonly Route[] | undefined;
  default_receiver?: string | undefined;
  notifications_from?: NotificationsFrom | undefined;
}

/** A secret file Alertmanager reads: the admin fills it. */
export interface SecretFileNeeded { path: string; what: string }

/** The file Alertmanager reads a Discord receiver's Slack-compatible URL from. */
export function discordSlackFile(webhookUrlFile: string): string {
  return `${webhookUrlFile}.slack`;
}

const NO_RECEIVER = 'none';
/** Takes the alerts the controller notifies. Receiver names in the inventory cannot start with '_'. */
export const CONTROLLER_NOTIFIES = '_cistern-controller-notifies';
const TITLE = '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ if .CommonLabels.server }} on {{ .CommonLabels.server }}{{ end }}';
const TEXT = '{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }}\n{{ end }}';
// ntfy (2.10 and later) fills these from the JSON Alertmanager posts: ?tpl=1&t=TITLE&m=MESSAGE.
const NTFY_TITLE = '[{{.status}}] {{.commonLabels.alertname}}';
const NTFY_MESSAGE = '{{range .alerts}}{{.annotations.summary}}: {{.annotations.description}}\n{{end}}';

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function matchers(route: Route): string[] {
  const out: string[] = [];
  if (route.severity) out.push(`severity=${quote(route.severity)}`);
  if (route.alerts?.length) out.push(`alertname=~${quote(route.alerts.join('|'))}`);
  for (const [label, value] of Object.entries(route.match ?? {})) out.push(`${label}=${quote(value)}`);
  for (const [label, value] of Object.entries(route.match_re ?? {})) out.push(`${label}=~${quote(value)}`);
  return out;
}

function integration(receiver: Receiver, secrets: SecretFileNeeded[]): Record<string, unknown> {
  const sendResolved = receiver.send_resolved ?? true;
  switch (receiver.type) {
    case 'webhook': {
      if (receiver.bearer_token_file) secrets.push({ path: receiver.bearer_token_file, what: 'the bearer token of the webhook' });
      return { webhook_configs: [{ url: receiver.url, send_resolved: sendResolved, ...(receiver.bearer_token_file && { http_config: { authorization: { credentials_file: receiver.bearer_token_file } } }) }] };
    }
    case 'ntfy': {
      if (receiver.token_file) secrets.push({ path: receiver.token_file, what: 'the ntfy access token (tk_...)' });
      const url = new URL(receiver.url);
      url.searchParams.set('tpl', '1');
      url.searchParams.set('t', NTFY_TITLE);
      url.searchParams.set('m', NTFY_MESSAGE);
      return { webhook_configs: [{ url: url.toString(), send_resolved: sendResolved, ...(receiver.token_file && { http_config: { authorization: { credentials_file: receiver.token_file } } }) }] };
    }
    case 'email': {
      if (receiver.password_file) secrets.push({ path: receiver.password_file, what: 'the SMTP password' });
      return {
        email_configs: [{
          to: receiver.to, from: receiver.from, smarthost: receiver.smarthost, send_resolved: sendResolved, require_tls: receiver.require_tls ?? true,
          ...(receiver.username !== undefined && { auth_username: receiver.username }),
          ...(receiver.password_file !== undefined && { auth_password_file: receiver.password_file }),
          headers: { Subject: TITLE },
        }],
      };
    }
    case 'discord': {
      const file = discordSlackFile(receiver.webhook_url_file);
      secrets.push({ path: file, what: 'the Discord webhook URL followed by /slack (https://discord.com/api/webhooks/ID/TOKEN/slack)' });
      return { slack_configs: [{ api_url_file: file, send_resolved: sendResolved, title: TITLE, text: TEXT }] };
    }
    case 'slack': {
      secrets.push({ path: receiver.webhook_url_file, what: 'the Slack incoming-webhook URL' });
      return { slack_configs: [{ api_url_file: receiver.webhook_url_file, send_resolved: sendResolved, title: TITLE, text: TEXT, ...(receiver.channel !== undefined && { channel: receiver.channel }) }] };
    }
  }
}

export function alertmanagerConfig(input: AlertmanagerInput): { config: Record<string, unknown>; secrets: SecretFileNeeded[] } {
  const secrets: SecretFileNeeded[] = [];
  const named = Object.entries(input.receivers ?? {});
  const receivers = named.length === 0 ? [{ name: NO_RECEIVER }] : named.map(([name, r]) => ({ name, ...integration(r, secrets) }));
  const fallback = input.default_receiver ?? named[0]?.[0] ?? NO_RECEIVER;
  // With no receiver, everything goes to NO_RECEIVER already: nobody could be told twice.
  const silenced = named.length === 0 ? [] : alertmanagerSilenced(input.notifications_from ?? DEFAULT_NOTIFICATIONS_FROM);
  const silentRoute = silenced.length > 0 ? [{ receiver: CONTROLLER_NOTIFIES, matchers: [`alertname=~${quote(silenced.join('|'))}`], continue: false }] : [];
  const routes = (input.routes ?? []).map((route) => ({
    receiver: route.receiver,
    matchers: matchers(route),
    ...(route.continue !== undefined && { continue: route.continue }),
    ...(route.group_by && { group_by: route.group_by }),
    ...(route.group_wait && { group_wait: route.group_wait }),
    ...(route.group_interval && { group_interval: route.group_interval }),
    ...(route.repeat_interval && { repeat_interval: route.repeat_interval }),
  }));
  const config = {
    route: {
      receiver: fallback,
      group_by: ['alertname', 'server', 'service'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      ...(silentRoute.length + routes.length > 0 && { routes: [...silentRoute, ...routes] }),
    },
    // A server that is down explains its services being down, late and unmonitored: say it once.
    inhibit_rules: [{
      source_matchers: ['alertname="ServerDown"'],
      target_matchers: [`alertname=~"${ALERT_NAMES.filter((a) => a !== 'ServerDown' && a !== 'FailoverHappened' && a !== 'CertificateExpiring' && a !== 'StaleBackup').join('|')}"`],
      equal: ['server'],
    }],
    receivers: [...receivers, ...(silentRoute.length > 0 ? [{ name: CONTROLLER_NOTIFIES }] : [])],
  };
  return { config, secrets };
}
