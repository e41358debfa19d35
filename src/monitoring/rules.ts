/**
 * Cistern's alert rules for Prometheus, from the inventory's thresholds. Pure: parameters in, the
 * rule file's content (as data) out. Every metric a rule reads is in metric-names.ts (a test
 * checks), and every annotation is built from labels and thresholds only, so the generated
 * promtool unit tests (rule-tests.ts) can state each alert's exact text.
 */
import { ALERT_THRESHOLD_DEFAULTS } from './config-schema.js';
import { AGENT_METRICS as A, CONTROLLER_METRICS as C, EXPORTER_METRICS } from './metric-names.js';

export type Thresholds = { -readonly [K in keyof typeof ALERT_THRESHOLD_DEFAULTS]: (typeof ALERT_THRESHOLD_DEFAULTS)[K] extends number ? number : string };

export const ALERT_NAMES = [
  'ServerDown', 'ServiceDown', 'RestartLoop', 'FailoverHappened', 'DiskAlmostFull', 'HighTemperature', 'StaleBackup',
  'CertificateExpiring', 'HeartbeatLag',
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

export interface AlertRule {
  alert: AlertName;
  expr: string;
  for?: string;
  labels: { severity: 'critical' | 'warning' | 'info' };
  annotations: { summary: string; description: string };
}

export interface RuleOptions {
  thresholds: Thresholds;
  /** Replaces every rule's `for:` (trying alerts out; the tests use it). */
  forOverride?: string | undefined;
}

export const RULE_GROUP = 'cistern';

const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** Seconds in a Prometheus duration (`1h30m` → 5400). */
export function durationSeconds(text: string): number {
  let seconds = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) seconds += Number(n) * (UNIT_S[unit as string] ?? 0);
  return seconds;
}

export function thresholds(input: Partial<Thresholds> | undefined): Thresholds {
  const out = { ...ALERT_THRESHOLD_DEFAULTS } as Thresholds;
  for (const [key, value] of Object.entries(input ?? {})) if (value !== undefined && key in out) (out as Record<string, unknown>)[key] = value;
  return out;
}

/** File systems that are not disks: never "almost full" in a way that matters. */
const PSEUDO_FS = 'tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|fuse[.].*';
const FS_SELECTOR = `{fstype!~"${PSEUDO_FS}",mountpoint!~"/boot.*|/run.*"}`;
/** exportarr's `<app>_system_status`: 0 when it cannot reach the app. */
const EXPORTARR_STATUS = EXPORTER_METRICS.exportarr.filter((name) => name.endsWith('_system_status'));

export function alertRules(options: RuleOptions): AlertRule[] {
  const t = options.thresholds;
  const downAfter = durationSeconds(t.server_down_after);
  const backupAge = durationSeconds(t.backup_max_age);
  const rule = (alert: AlertName, severity: AlertRule['labels']['severity'], expr: string, forDefault: string | undefined, summary: string, description: string): AlertRule => {
    const wait = options.forOverride ?? forDefault;
    return { alert, expr, ...(wait !== undefined && { for: wait }), labels: { severity }, annotations: { summary, description } };
  };
  return [
    rule('ServerDown', 'critical',
      `max by (server) (${C.heartbeatAge}) > ${downAfter}`, '1m',
      '{{ $labels.server }} is down',
      `The controller has had no heartbeat from {{ $labels.server }} for more than ${t.server_down_after}.`),
    rule('ServiceDown', 'critical', [
      `max by (server, service) (${A.serviceState}{state=~"unhealthy|failed|misconfigured"} == 1)`,
      `or max by (server, service) (up{service!="",job!="exportarr"} == 0)`,
      `or max by (server, service) (${EXPORTARR_STATUS.map((name) => `${name} == 0`).join(' or ')})`,
    ].join('\n'), '2m',
    '{{ $labels.service }} is down on {{ $labels.server }}',
    'The agent\'s probe, the service\'s own metrics endpoint or its exporter says {{ $labels.service }} on {{ $labels.server }} is not working.'),
    rule('RestartLoop', 'warning',
      `increase(${A.restarts}[${t.restart_loop_window}]) >= ${t.restart_loop_restarts}`, '1m',
      '{{ $labels.service }} keeps restarting on {{ $labels.server }}',
      `The agent restarted {{ $labels.service }} on {{ $labels.server }} ${t.restart_loop_restarts} or more times within ${t.restart_loop_window}.`),
    // A failover creates its counter series at 1, which increase() cannot see: a series that is
    // new (absent 10 minutes ago) counts too, once Prometheus has watched the controller that long.
    rule('FailoverHappened', 'warning', [
      `max by (service, cause) (increase(${C.failovers}[10m]) > 0)`,
      `or max by (service, cause) ((${C.failovers} > 0 unless ${C.failovers} offset 10m) and on () (count(up{job="cistern-controller"} offset 10m) > 0))`,
    ].join('\n'), undefined,
    '{{ $labels.service }} failed over',
    'The controller moved {{ $labels.service }} to another server (cause: {{ $labels.cause }}) in the last 10 minutes.'),
    rule('DiskAlmostFull', 'warning',
      `100 * (1 - node_filesystem_avail_bytes${FS_SELECTOR} / node_filesystem_size_bytes${FS_SELECTOR}) > ${t.disk_full_percent}`, '15m',
      '{{ $labels.mountpoint }} on {{ $labels.server }} is almost full',
      `The file system at {{ $labels.mountpoint }} on {{ $labels.server }} is more than ${t.disk_full_percent}% full.`),
    rule('HighTemperature', 'warning', [
      `max by (server, chip, sensor) (node_hwmon_temp_celsius) > ${t.temperature_celsius}`,
      `or max by (server, zone, type) (node_thermal_zone_temp) > ${t.temperature_celsius}`,
    ].join('\n'), '10m',
    '{{ $labels.server }} is running hot',
    `A temperature sensor on {{ $labels.server }} reads above ${t.temperature_celsius} °C.`),
    rule('StaleBackup', 'warning',
      `time() - ${C.backupLastSuccess} > ${backupAge}`, '15m',
      'No recent backup of {{ $labels.service }} on {{ $labels.server }}',
      `The last successful backup of {{ $labels.service }} on {{ $labels.server }} is more than ${t.backup_max_age} old.`),
    rule('CertificateExpiring', 'warning',
      `${C.certificateExpiry} - time() < ${t.certificate_min_days * 86_400}`, '1h',
      'Certificate {{ $labels.name }} expires soon',
      `The TLS certificate {{ $labels.name }} expires in less than ${t.certificate_min_days} days.`),
    rule('HeartbeatLag', 'warning', [
      `histogram_quantile(0.9, sum by (le) (rate(${C.heartbeatLatency}_bucket[5m]))) > ${t.heartbeat_lag_seconds}`,
      `or histogram_quantile(0.9, sum by (server, le) (rate(${A.heartbeatRtt}_bucket[5m]))) > ${t.heartbeat_lag_seconds}`,
    ].join('\n'), '10m',
    'Heartbeats are late',
    `The 90th percentile of heartbeat delay (at the controller) or round trip (at an agent) is above ${t.heartbeat_lag_seconds} s.`),
  ];
}

/** The rule file: one group. */
export function ruleFile(options: RuleOptions): { groups: Array<{ name: string; rules: AlertRule[] }> } {
  return { groups: [{ name: RULE_GROUP, rules: alertRules(options) }] };
}
