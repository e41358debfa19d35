/**
 * Unit tests for the generated alert rules, in promtool's format (`promtool test rules`): for
 * every alert, series that turn bad at minute START and series that stay good; at minute 6 no
 * alert fires, and once the bad condition has lasted the rule's `for:` (plus a margin), exactly
 * the bad series' alerts fire, with their labels and annotations. Built from the same options
 * as the rules, so changed thresholds or `for:` durations keep the tests true.
 */
import { alertRules, durationSeconds, type AlertName, type RuleOptions } from './rules.js';
import { AGENT_METRICS as A, CONTROLLER_METRICS as C } from './metric-names.js';

/** The minute bad series turn bad; late enough for FailoverHappened's 10-minute look-back. */
const START = 12;
const EARLY = 6;

interface Series { series: string; values: string }
interface Case {
  series: Series[];
  /** Labels of each alert expected to fire (severity and alertname are added). */
  firing: Array<Record<string, string>>;
  /** Minutes the bad condition needs before the rule's `for:` starts counting. */
  settleMin?: number;
}

export interface RuleTestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: Array<{
    name: string;
    interval: string;
    input_series: Series[];
    alert_rule_test: Array<{ eval_time: string; alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string>; exp_annotations: Record<string, string> }> }>;
  }>;
}

function selector(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

/** `good` for minutes 0..START-1, then `bad` (a promtool expanding value, e.g. "95" or "0+60") for `count` more. */
function turns(good: string, bad: string, count: number): string {
  return `${good}x${START - 1} ${bad}x${count}`;
}

function cases(options: RuleOptions, n: number): Record<AlertName, Case> {
  const t = options.thresholds;
  const controller = { job: 'cistern-controller', instance: 'controller:7443' };
  const agent = (server: string) => ({ job: 'cistern-agent', instance: `${server}:9810`, server });
  const node = (server: string) => ({ job: 'node', instance: `${server}:9100`, server });
  const downAfter = durationSeconds(t.server_down_after);
  const lag = t.heartbeat_lag_seconds;
  const hist = (name: string, labels: Record<string, string>, bad: boolean): Series[] => [
    // Good: every heartbeat under lag/2. Bad (from START): every new one between 2·lag and 4·lag.
    { series: selector(`${name}_bucket`, { ...labels, le: String(lag / 2) }), values: bad ? `0+10x${START - 1} ${10 * (START - 1)}+0x${n}` : `0+10x${START + n}` },
    { series: selector(`${name}_bucket`, { ...labels, le: String(lag * 4) }), values: `0+10x${START + n}` },
    { series: selector(`${name}_bucket`, { ...labels, le: '+Inf' }), values: `0+10x${START + n}` },
  ];
  const fs = (server: string, mountpoint: string, fstype: string) => ({ ...node(server), device: `/dev/${server}-${mountpoint.length}`, fstype, mountpoint });
  const tooFull = 1000 - Math.ceil(10 * t.disk_full_percent) - 5;
  return {
    ServerDown: {
      series: [
        { series: selector(C.heartbeatAge, { ...controller, server: 'eden' }), values: turns('2', `${downAfter + 60}+60`, n) },
        { series: selector(C.heartbeatAge, { ...controller, server: 'rivers' }), values: `2x${START + n}` },
      ],
      firing: [{ server: 'eden' }],
    },
    ServiceDown: {
      series: [
        { series: selector(A.serviceState, { ...agent('eden'), service: 'sonarr', state: 'unhealthy' }), values: turns('0', '1', n) },
        { series: selector(A.serviceState, { ...agent('eden'), service: 'radarr', state: 'healthy' }), values: `1x${START + n}` },
        { series: selector(A.serviceState, { ...agent('eden'), service: 'bazarr', state: 'stopped' }), values: `1x${START + n}` },
        { series: selector('up', { job: 'jellyfin', instance: 'eden:8096', server: 'eden', service: 'jellyfin' }), values: turns('1', '0', n) },
        { series: selector('up', { job: 'exportarr', instance: 'rivers:9709', server: 'rivers', service: 'prowlarr' }), values: turns('1', '0', n) },
        { series: selector('up', node('rivers')), values: turns('1', '0', n) },
        { series: selector('radarr_system_status', { job: 'exportarr', instance: 'rivers:9708', server: 'rivers', service: 'radarr' }), values: turns('1', '0', n) },
        { series: selector('sonarr_system_status', { job: 'exportarr', instance: 'rivers:9707', server: 'rivers', service: 'sonarr' }), values: `1x${START + n}` },
      ],
      firing: [{ server: 'eden', service: 'jellyfin' }, { server: 'eden', service: 'sonarr' }, { server: 'rivers', service: 'radarr' }],
    },
    RestartLoop: {
      series: [
        { series: selector(A.restarts, { ...agent('eden'), service: 'jellyfin' }), values: turns('0', `0+${t.restart_loop_restarts}`, n) },
        { series: selector(A.restarts, { ...agent('eden'), service: 'sonarr' }), values: `1x${START + n}` },
      ],
      firing: [{ job: 'cistern-agent', instance: 'eden:9810', server: 'eden', service: 'jellyfin' }],
      settleMin: 2,
    },
    FailoverHappened: {
      series: [
        { series: selector('up', controller), values: `1x${START + n}` },
        { series: selector(C.failovers, { ...controller, service: 'jellyfin', cause: 'server-down' }), values: `_x${START - 1} 1x${n}` },
        { series: selector(C.failovers, { ...controller, service: 'sonarr', cause: 'unhealthy' }), values: `2x${START + n}` },
      ],
      firing: [{ service: 'jellyfin', cause: 'server-down' }],
    },
    DiskAlmostFull: {
      series: [
        { series: selector('node_filesystem_size_bytes', fs('eden', '/mnt/media', 'ext4')), values: `1000x${START + n}` },
        { series: selector('node_filesystem_avail_bytes', fs('eden', '/mnt/media', 'ext4')), values: turns('500', String(tooFull), n) },
        { series: selector('node_filesystem_size_bytes', fs('eden', '/', 'ext4')), values: `1000x${START + n}` },
        { series: selector('node_filesystem_avail_bytes', fs('eden', '/', 'ext4')), values: `500x${START + n}` },
        { series: selector('node_filesystem_size_bytes', fs('eden', '/dev/shm', 'tmpfs')), values: `1000x${START + n}` },
        { series: selector('node_filesystem_avail_bytes', fs('eden', '/dev/shm', 'tmpfs')), values: `0x${START + n}` },
      ],
      firing: [fs('eden', '/mnt/media', 'ext4')],
    },
    HighTemperature: {
      series: [
        { series: selector('node_hwmon_temp_celsius', { ...node('eden'), chip: 'platform_coretemp_0', sensor: 'temp1' }), values: turns('45', String(t.temperature_celsius + 5), n) },
        { series: selector('node_hwmon_temp_celsius', { ...node('rivers'), chip: 'platform_coretemp_0', sensor: 'temp1' }), values: `45x${START + n}` },
        { series: selector('node_thermal_zone_temp', { ...node('pi'), zone: '0', type: 'cpu-thermal' }), values: turns('50', String(t.temperature_celsius + 2), n) },
      ],
      firing: [{ server: 'eden', chip: 'platform_coretemp_0', sensor: 'temp1' }, { server: 'pi', zone: '0', type: 'cpu-thermal' }],
    },
    StaleBackup: {
      series: [
        // Unix time of the last backup: promtool's clock starts at 0, so the good one keeps up with it.
        { series: selector(C.backupLastSuccess, { ...controller, server: 'eden', service: 'jellyfin' }), values: `${START * 60 - durationSeconds(t.backup_max_age) - 1}x${START + n}` },
        { series: selector(C.backupLastSuccess, { ...controller, server: 'eden', service: 'sonarr' }), values: `-600+60x${START + n}` },
      ],
      firing: [{ ...controller, server: 'eden', service: 'jellyfin' }],
    },
    CertificateExpiring: {
      series: [
        { series: selector(C.certificateExpiry, { ...controller, name: 'agent/eden' }), values: `${START * 60 + t.certificate_min_days * 86_400 - 1}x${START + n}` },
        { series: selector(C.certificateExpiry, { ...controller, name: 'controller' }), values: `${400 * 86_400}x${START + n}` },
      ],
      firing: [{ ...controller, name: 'agent/eden' }],
    },
    HeartbeatLag: {
      series: [
        ...hist(C.heartbeatLatency, controller, true),
        ...hist(A.heartbeatRtt, agent('eden'), true),
        ...hist(A.heartbeatRtt, agent('rivers'), false),
      ],
      firing: [{}, { server: 'eden' }],
      // rate()[5m] must see only late heartbeats.
      settleMin: 6,
    },
  };
}

function render(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
}

export function ruleTests(options: RuleOptions, ruleFile: string): RuleTestFile {
  const rules = new Map(alertRules(options).map((r) => [r.alert, r]));
  const tests: RuleTestFile['tests'] = [];
  const longestFor = Math.max(...[...rules.values()].map((r) => Math.ceil(durationSeconds(r.for ?? '0s') / 60)));
  const n = longestFor + 20;
  const all = cases(options, n);
  for (const [name, rule] of rules) {
    const c = all[name];
    const late = START + (c.settleMin ?? 1) + Math.ceil(durationSeconds(rule.for ?? '0s') / 60) + 1;
    const expected = c.firing.map((labels) => {
      const exp = { ...labels, severity: rule.labels.severity };
      return { exp_labels: exp, exp_annotations: { summary: render(rule.annotations.summary, exp), description: render(rule.annotations.description, exp) } };
    });
    tests.push({
      name: `${name}: fires for the bad series only, once the condition has held for ${rule.for ?? '0s'}`,
      interval: '1m',
      input_series: c.series,
      alert_rule_test: [
        { eval_time: `${EARLY}m`, alertname: name, exp_alerts: [] },
        { eval_time: `${late}m`, alertname: name, exp_alerts: expected },
      ],
    });
  }
  return { rule_files: [ruleFile], evaluation_interval: '1m', tests };
}
