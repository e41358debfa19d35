/**
 * What a notification looks like on each kind of receiver: Alertmanager's webhook JSON (version
 * 4, so receivers written for Alertmanager work unchanged), ntfy's headers and text, Discord's
 * and Slack's webhook JSON, and an email's subject and text. Pure: no I/O, no clock.
 */
import type { Alert, Notification } from './types.js';

/** Lines of alerts listed in a text message before "and N more". */
const MAX_LISTED = 25;

/** Alertmanager's "zero" time: the endsAt of an alert still firing. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const iso = (ms: number) => new Date(ms).toISOString();

export function alertLabels(alert: Alert): Record<string, string> {
  return { alertname: alert.name, severity: alert.severity, ...alert.labels };
}

/** A stable 16-hex-digit id of a label set (FNV-1a, 64 bit), as Alertmanager gives each alert. */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  let hash = 0xcbf29ce484222325n;
  const text = Object.keys(labels).sort().map((k) => `${k}\u00ff${labels[k] ?? ''}\u00ff`).join('');
  for (const byte of new TextEncoder().encode(text)) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  return hash.toString(16).padStart(16, '0');
}

/**
 * The message as a receiver that does not want resolved messages gets it: without resolved
 * alerts, or nothing (undefined) when only those were in it.
 */
export function forReceiver(n: Notification, sendResolved: boolean): Notification | undefined {
  if (sendResolved) return n;
  const alerts = n.alerts.filter((a) => a.status === 'firing');
  return alerts.length === 0 ? undefined : { ...n, alerts, status: 'firing' };
}

/** "[FIRING:2] ServerDown" or "[RESOLVED] ServerDown, ServiceFailed", as Alertmanager titles them. */
export function title(n: Notification): string {
  const firing = n.alerts.filter((a) => a.status === 'firing').length;
  const head = n.status === 'firing' ? `[FIRING:${firing}]` : '[RESOLVED]';
  return `${head} ${n.groups.join(', ')}`;
}

function alertLine(a: Alert): string {
  if (a.status === 'firing') return `FIRING ${a.severity}: ${a.summary} (since ${iso(a.startsAt)})`;
  return `RESOLVED: ${a.summary} (${iso(a.startsAt)} to ${iso(a.endsAt ?? a.startsAt)})`;
}

/** The plain-text body: one line per alert, and a note when the rate limit folded messages in. */
export function body(n: Notification): string {
  const lines = n.alerts.slice(0, MAX_LISTED).map(alertLine);
  if (n.alerts.length > MAX_LISTED) lines.push(`...and ${n.alerts.length - MAX_LISTED} more`);
  if (n.folded > 0) lines.push(`(${n.folded} more message${n.folded === 1 ? ' was' : 's were'} held back by the rate limit and ${n.folded === 1 ? 'is' : 'are'} included here)`);
  return lines.join('\n');
}

function common(records: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((r) => r[k] === v)));
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
  /** Cistern's own, ignored by Alertmanager receivers: messages the rate limit folded into this one. */
  folded: number;
}

/** Alertmanager's webhook body (version 4). */
export function webhookPayload(n: Notification, options: { externalUrl: string }): WebhookPayload {
  const alerts = n.alerts.map((a) => ({
    status: a.status,
    labels: alertLabels(a),
    annotations: { summary: a.summary },
    startsAt: iso(a.startsAt),
    endsAt: a.endsAt === null ? ZERO_TIME : iso(a.endsAt),
    generatorURL: options.externalUrl,
    fingerprint: fingerprint(alertLabels(a)),
  }));
  const groupLabels: Record<string, string> = n.groups.length === 1 ? { alertname: n.groups[0] as string } : {};
  return {
    version: '4',
    groupKey: n.groups.length === 1 ? `{}:{alertname="${n.groups[0]}"}` : `{}:{alertname=~"^(?:${n.groups.join('|')})$"}`,
    truncatedAlerts: 0,
    status: n.status,
    receiver: n.receiver,
    groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: options.externalUrl,
    alerts,
    folded: n.folded,
  };
}

/** RFC 2047 encoding for a header ntfy reads: plain when it is printable ASCII. */
function headerText(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/**
 * An ntfy publish: the text as the body; title, priority (5 urgent for critical, 4 high for
 * warning, 3 default, 2 low when resolved) and an emoji tag as headers.
 */
export function ntfyRequest(n: Notification): { headers: Record<string, string>; body: string } {
  const worst = n.alerts.find((a) => a.status === 'firing')?.severity;
  const priority = n.status === 'resolved' ? 2 : worst === 'critical' ? 5 : worst === 'warning' ? 4 : 3;
  const tag = n.status === 'resolved' ? 'white_check_mark' : worst === 'critical' ? 'rotating_light' : 'warning';
  return { headers: { Title: headerText(title(n)), Priority: String(priority), Tags: tag }, body: body(n) };
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

/** Colours as Alertmanager's Discord and Slack integrations use them. */
const COLOR = { firing: 0x992d22, resolved: 0x2ecc71 } as const;

/** A Discord webhook execution: one embed (title up to 256 characters, description up to 4,096). */
export function discordPayload(n: Notification): { embeds: Array<{ title: string; description: string; color: number }> } {
  return { embeds: [{ title: cut(title(n), 256), description: cut(body(n), 4_096), color: COLOR[n.status] }] };
}

/** A Slack incoming-webhook message: a fallback text and one attachment coloured by status. */
export function slackPayload(n: Notification, options: { channel?: string } = {}): Record<string, unknown> {
  const text = title(n);
  return {
    ...(options.channel !== undefined && { channel: options.channel }),
    text,
    attachments: [{ color: n.status === 'firing' ? 'danger' : 'good', title: cut(text, 256), text: cut(body(n), 8_000), fallback: text }],
  };
}

export function emailMessage(n: Notification): { subject: string; text: string } {
  return { subject: title(n), text: body(n) };
}
