import { describe, expect, it } from 'vitest';
import { body, discordPayload, emailMessage, fingerprint, forReceiver, ntfyRequest, slackPayload, title, webhookPayload } from './format.js';
import type { Alert, Notification } from './types.js';

const T = Date.parse('2026-01-31T12:00:00Z');
const alpha: Alert = { key: 'ServerDown/alpha', name: 'ServerDown', severity: 'critical', summary: 'alpha is down', status: 'firing', labels: { server: 'alpha' }, once: false, startsAt: T, endsAt: null };
const beta: Alert = { ...alpha, key: 'ServerDown/beta', severity: 'warning', summary: 'beta is healthy again', status: 'resolved', labels: { server: 'beta' }, endsAt: T + 60_000 };
const message = (alerts: Alert[], extra: Partial<Notification> = {}): Notification =>
  ({ receiver: 'ops', at: T + 70_000, groups: ['ServerDown'], status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved', alerts, folded: 0, ...extra });

describe('notification formats', () => {
  it('titles and bodies as Alertmanager words them', () => {
    const n = message([alpha, beta]);
    expect(title(n)).toBe('[FIRING:1] ServerDown');
    expect(title(message([beta]))).toBe('[RESOLVED] ServerDown');
    expect(body(n)).toBe([
      'FIRING critical: alpha is down (since 2026-01-31T12:00:00.000Z)',
      'RESOLVED: beta is healthy again (2026-01-31T12:00:00.000Z to 2026-01-31T12:01:00.000Z)',
    ].join('\n'));
    expect(body(message([alpha], { folded: 3 }))).toContain('(3 more messages were held back by the rate limit and are included here)');
  });

  it('long lists are cut with a count', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ ...alpha, key: `ServerDown/s${i}`, summary: `s${i} is down` }));
    const text = body(message(many));
    expect(text.split('\n')).toHaveLength(26);
    expect(text).toMatch(/\.\.\.and 5 more$/);
  });

  it('a receiver that does not want resolved messages gets only the firing alerts, or nothing', () => {
    expect(forReceiver(message([alpha, beta]), false)?.alerts).toEqual([alpha]);
    expect(forReceiver(message([beta]), false)).toBeUndefined();
    expect(forReceiver(message([beta]), true)?.alerts).toEqual([beta]);
  });

  it('the webhook body is Alertmanager\'s version 4', () => {
    const payload = webhookPayload(message([alpha, beta]), { externalUrl: 'https://controller:7443' });
    expect(payload).toEqual({
      version: '4', groupKey: '{}:{alertname="ServerDown"}', truncatedAlerts: 0, status: 'firing', receiver: 'ops',
      groupLabels: { alertname: 'ServerDown' }, commonLabels: { alertname: 'ServerDown' }, commonAnnotations: {}, externalURL: 'https://controller:7443',
      alerts: [
        { status: 'firing', labels: { alertname: 'ServerDown', severity: 'critical', server: 'alpha' }, annotations: { summary: 'alpha is down' },
          startsAt: '2026-01-31T12:00:00.000Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'https://controller:7443', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) },
        { status: 'resolved', labels: { alertname: 'ServerDown', severity: 'warning', server: 'beta' }, annotations: { summary: 'beta is healthy again' },
          startsAt: '2026-01-31T12:00:00.000Z', endsAt: '2026-01-31T12:01:00.000Z', generatorURL: 'https://controller:7443', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) },
      ],
      folded: 0,
    });
    expect(webhookPayload(message([alpha], { groups: ['A', 'B'] }), { externalUrl: '' }).groupKey).toBe('{}:{alertname=~"^(?:A|B)$"}');
  });

  it('fingerprints depend on the label set only', () => {
    expect(fingerprint({ a: '1', b: '2' })).toBe(fingerprint({ b: '2', a: '1' }));
    expect(fingerprint({ a: '1', b: '2' })).not.toBe(fingerprint({ a: '12' }));
  });

  it('ntfy: priority and tag from the severity, non-ASCII titles encoded', () => {
    expect(ntfyRequest(message([alpha])).headers).toEqual({ Title: '[FIRING:1] ServerDown', Priority: '5', Tags: 'rotating_light' });
    expect(ntfyRequest(message([beta])).headers).toMatchObject({ Priority: '2', Tags: 'white_check_mark' });
    expect(ntfyRequest(message([alpha], { groups: ['Serveur\u00e9'] })).headers.Title).toBe(`=?UTF-8?B?${Buffer.from('[FIRING:1] Serveur\u00e9').toString('base64')}?=`);
  });

  it('Discord and Slack bodies', () => {
    expect(discordPayload(message([alpha]))).toEqual({ embeds: [{ title: '[FIRING:1] ServerDown', description: body(message([alpha])), color: 0x992d22 }] });
    expect(slackPayload(message([beta]), { channel: '#fleet' })).toEqual({
      channel: '#fleet', text: '[RESOLVED] ServerDown',
      attachments: [{ color: 'good', title: '[RESOLVED] ServerDown', text: body(message([beta])), fallback: '[RESOLVED] ServerDown' }],
    });
    expect(emailMessage(message([alpha]))).toEqual({ subject: '[FIRING:1] ServerDown', text: body(message([alpha])) });
  });
});
