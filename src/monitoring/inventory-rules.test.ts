import { describe, expect, it } from 'vitest';
import { analyze } from '../inventory/analyze.js';
import { formatFinding } from '../inventory/findings.js';

const check = (monitoring: string) => analyze(`servers:\n  eden: {hostname: 192.168.1.10}\nmonitoring:\n${monitoring}`, 'inventory.yaml');
const errors = (monitoring: string) => check(monitoring).findings.filter((f) => f.severity === 'error').map((f) => `${f.path.join('.')}: ${f.message}`);

describe('the inventory\'s monitoring section', () => {
  it('keeps the original keys and takes receivers, routes, thresholds and exporter ports', () => {
    const result = check([
      '  prometheus_port: 9090',
      '  grafana_port: 3000',
      '  loki_port: 3100',
      '  alertmanager_port: 9093',
      '  scrape_interval: 15s',
      '  node_exporter_port: false',
      '  exportarr: {sonarr: 9707, bazarr: false}',
      '  alerts: {disk_full_percent: 85, backup_max_age: 48h}',
      '  receivers:',
      '    phone: {type: ntfy, url: "https://ntfy.sh/fleet", token_file: secrets/ntfy}',
      '    mail: {type: email, to: me@example.org, from: fleet@example.org, smarthost: "smtp.example.org:587", username: fleet, password_file: secrets/smtp}',
      '  routes:',
      '    - {receiver: phone, severity: critical, continue: true}',
      '  default_receiver: mail',
    ].join('\n'));
    expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(result.findings.filter((f) => f.code === 'unknown-key')).toEqual([]);
  });

  it('refuses routes to receivers that do not exist, with a suggestion', () => {
    expect(errors('  receivers: {phone: {type: ntfy, url: "https://ntfy.sh/x"}}\n  routes: [{receiver: phnoe}]\n  default_receiver: mail')).toEqual([
      'monitoring.routes.0.receiver: no receiver named "phnoe" under monitoring.receivers',
      'monitoring.default_receiver: no receiver named "mail" under monitoring.receivers',
    ]);
  });

  it('refuses a credential in a URL that would be written into alertmanager.yml', () => {
    expect(errors('  receivers:\n    a: {type: webhook, url: "https://user:pw@example.org/hook"}\n    b: {type: ntfy, url: "https://ntfy.sh/x?auth=abc"}')).toEqual([
      'monitoring.receivers.a.url: the URL carries a user name or password, which would be written in plaintext into alertmanager.yml',
      'monitoring.receivers.b.url: the URL carries a "auth" parameter, which would be written in plaintext into alertmanager.yml',
    ]);
  });

  it('has no field for a secret value: a password must be a file', () => {
    const result = check('  receivers: {mail: {type: email, to: a@b.c, from: d@e.f, smarthost: "smtp:587", password: hunter2}}');
    expect(result.findings.some((f) => f.code === 'unknown-key' && f.path.join('.') === 'monitoring.receivers.mail.password')).toBe(true);
  });

  it('takes notifications_from: controller, alertmanager or both', () => {
    for (const from of ['controller', 'alertmanager', 'both']) expect(errors(`  notifications_from: ${from}`)).toEqual([]);
  });

  it('refuses another notifications_from naming the file, line and field, with the choices', () => {
    const result = check('  receivers: {phone: {type: ntfy, url: "https://ntfy.sh/x"}}\n  notifications_from: alertmanger');
    expect(result.ok).toBe(false);
    expect(result.findings.filter((f) => f.severity === 'error').map(formatFinding)).toEqual([
      'inventory.yaml:5:23: error monitoring.notifications_from: unknown value (found "alertmanger", expected one of controller, alertmanager, both)\n'
      + '  hint: did you mean "alertmanager"?',
    ]);
  });

  it('refuses malformed durations and unknown receiver types', () => {
    expect(errors('  scrape_interval: 30 seconds\n  receivers: {x: {type: pager}}').length).toBe(2);
  });
});
