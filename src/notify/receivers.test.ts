import { describe, expect, it } from 'vitest';
import { notifyConfig, parsePromDuration, router } from './receivers.js';
import type { Alert } from './types.js';

const alert = (name: string, severity: Alert['severity'], labels: Record<string, string> = {}): Alert =>
  ({ key: `${name}/${Object.values(labels).join('/')}`, name, severity, summary: name, status: 'firing', labels, once: false, startsAt: 0, endsAt: null });

describe('notification settings from monitoring:', () => {
  it('reads every receiver type, with secrets as files', () => {
    const result = notifyConfig({
      prometheus_port: 9090,
      receivers: {
        hook: { type: 'webhook', url: 'http://127.0.0.1:9/hook', bearer_token_file: 'hook.token' },
        phone: { type: 'ntfy', url: 'https://ntfy.example.org/fleet', token_file: '/etc/cistern/ntfy.token', send_resolved: false },
        mail: { type: 'email', to: 'admin@example.org', from: 'cistern@example.org', smarthost: 'smtp.example.org:587', username: 'cistern', password_file: 'smtp.pw' },
        chat: { type: 'discord', webhook_url_file: 'discord.url' },
        team: { type: 'slack', webhook_url_file: 'slack.url', channel: '#fleet' },
      },
    });
    expect(result.errors).toEqual([]);
    expect(result.value?.receivers).toEqual([
      { name: 'hook', sendResolved: true, integration: { type: 'webhook', url: 'http://127.0.0.1:9/hook', bearerToken: { file: 'hook.token' } } },
      { name: 'phone', sendResolved: false, integration: { type: 'ntfy', url: 'https://ntfy.example.org/fleet', token: { file: '/etc/cistern/ntfy.token' } } },
      { name: 'mail', sendResolved: true, integration: { type: 'email', to: 'admin@example.org', from: 'cistern@example.org', host: 'smtp.example.org', port: 587, username: 'cistern', password: { file: 'smtp.pw' }, requireTls: true } },
      { name: 'chat', sendResolved: true, integration: { type: 'discord', url: { file: 'discord.url' } } },
      { name: 'team', sendResolved: true, integration: { type: 'slack', url: { file: 'slack.url' }, channel: '#fleet' } },
    ]);
    expect(result.value?.defaultReceiver).toBe('hook');
  });

  it('no monitoring section, or no receivers: valid, and nobody to tell', () => {
    expect(notifyConfig(undefined)).toEqual({ value: { receivers: [], routes: [], defaultReceiver: undefined, muted: [] }, warnings: [], errors: [] });
    expect(notifyConfig({ grafana_port: 3000 }).value?.receivers).toEqual([]);
  });

  it('collects every error, each starting with its field path', () => {
    expect(notifyConfig({ receivers: { hook: { type: 'webhook', url: 'ftp://x' }, bad: { type: 'pager' } } }).errors).toEqual([
      'monitoring.receivers.hook.url: an http:// or https:// URL',
      expect.stringMatching(/^monitoring\.receivers\.bad\.type: /),
    ]);
    expect(notifyConfig({
      receivers: { mail: { type: 'email', to: 'a@b.c', from: 'c@d.e', smarthost: 'smtp:99999', password_file: 'pw' } },
      routes: [{ receiver: 'nobody' }, { receiver: 'mail', match_re: { server: '(' } }],
      default_receiver: 'gone',
    }).errors).toEqual([
      'monitoring.receivers.mail.smarthost: port 99999 is out of range',
      'monitoring.receivers.mail: password_file needs username',
      'monitoring.routes[0].receiver: no receiver named "nobody" under monitoring.receivers',
      'monitoring.routes[1].match_re.server: "(" is not a valid regular expression',
      'monitoring.default_receiver: no receiver named "gone" under monitoring.receivers',
    ]);
  });

  it('reads Prometheus durations', () => {
    expect(parsePromDuration('1h30m')).toBe(5_400_000);
    expect(parsePromDuration('250ms')).toBe(250);
    expect(parsePromDuration('2d')).toBe(172_800_000);
  });
});

describe('routes', () => {
  const defaults = { groupWaitMs: 10_000, repeatIntervalMs: 14_400_000 };
  const config = notifyConfig({
    receivers: { ops: { type: 'webhook', url: 'http://127.0.0.1:9/a' }, phone: { type: 'ntfy', url: 'http://127.0.0.1:9/b' }, mail: { type: 'webhook', url: 'http://127.0.0.1:9/c' } },
    routes: [
      { receiver: 'phone', severity: 'critical', group_wait: '1s', continue: true },
      { receiver: 'mail', alerts: ['DeployFailed'] },
      { receiver: 'ops', match: { server: 'alpha' }, repeat_interval: '1h' },
      { receiver: 'mail', match_re: { server: 'b.*' } },
    ],
    default_receiver: 'ops',
  }).value;
  if (!config) throw new Error('the test config should be valid');
  const route = router(config, defaults);
  const to = (a: Alert) => route(a).map((t) => `${t.receiver} ${t.groupWaitMs / 1000}s ${t.repeatIntervalMs / 3_600_000}h`);

  it.each<[string, Alert, string[]]>([
    ['the first match wins', alert('ServerDown', 'warning', { server: 'alpha' }), ['ops 10s 1h']],
    ['continue: the next routes are tried too', alert('DeployFailed', 'critical', { target: 'alpha' }), ['phone 1s 4h', 'mail 10s 4h']],
    ['match_re matches the whole value', alert('ServerDown', 'warning', { server: 'beta' }), ['mail 10s 4h']],
    ['no route: the default receiver', alert('ServerDown', 'warning', { server: 'abe' }), ['ops 10s 4h']],
  ])('%s', (_name, a, expected) => {
    expect(to(a)).toEqual(expected);
  });

  it('notifications_from: alertmanager mutes what Alertmanager also notifies, whatever the routes say; the rest is routed', () => {
    const settings = (from?: string) => notifyConfig({ receivers: { ops: { type: 'webhook', url: 'http://127.0.0.1:9/a' } }, routes: [{ receiver: 'ops', alerts: ['ServerDown'] }], notifications_from: from });
    const left = settings('alertmanager').value;
    if (!left) throw new Error('the config should be valid');
    expect(left.muted).toEqual(['ServerDown', 'ServiceFailed', 'ServiceFailover']);
    const send = router(left, defaults);
    for (const name of ['ServerDown', 'ServiceFailed', 'ServiceFailover']) expect(send(alert(name, 'critical', { server: 'alpha' }))).toEqual([]);
    expect(send(alert('DeployFailed', 'critical', { target: 'alpha' })).map((t) => t.receiver)).toEqual(['ops']);
    for (const from of [undefined, 'controller', 'both']) {
      const all = settings(from).value;
      expect(all?.muted).toEqual([]);
      expect(all && router(all, defaults)(alert('ServerDown', 'critical', { server: 'alpha' })).map((t) => t.receiver)).toEqual(['ops']);
    }
    expect(settings('prometheus').errors).toEqual(['monitoring.notifications_from: one of controller, alertmanager, both']);
  });

  it('without routes or default_receiver: the first receiver', () => {
    const first = notifyConfig({ receivers: { one: { type: 'webhook', url: 'http://127.0.0.1:9/1' }, two: { type: 'webhook', url: 'http://127.0.0.1:9/2' } } }).value;
    expect(first && router(first, defaults)(alert('ServerDown', 'critical')).map((t) => t.receiver)).toEqual(['one']);
  });
});
