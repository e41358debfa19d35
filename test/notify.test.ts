/**
 * The controller's own notifications, received by real servers on 127.0.0.1: a webhook that
 * speaks Alertmanager's format, ntfy, Discord and Slack stand-ins, and an SMTP server
 * (smtp-server). First end to end — a real `cistern controller` with an inventory naming the
 * webhook, real agents killed with SIGKILL and started again — then the notifier in-process
 * over a real event log, for every receiver type, the rate limit under a burst, and a failing
 * receiver next to a working one. Every wait is bounded; secrets never show in logs or events.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventLog, type FleetEvent } from '../src/controller/events.js';
import { openControllerStore } from '../src/controller/store-adapter.js';
import { Notifier, type NotifierOptions } from '../src/notify/index.js';
import { tempDir } from '../src/testing/tmp.js';
import { createLogger } from '../src/util/logger.js';
import { assertBuilt } from './support/cistern.js';
import { FleetLab, sleep, waitUntil, type Agent, type Controller } from './support/fleet.js';

interface Received { at: number; path: string; headers: IncomingHttpHeaders; text: string; json: any }

/** An HTTP server on 127.0.0.1 that records every request; `status(path)` picks the answer. */
async function receiver(status: (path: string) => number = () => 200): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => {
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      received.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, text, json });
      res.statusCode = status(req.url ?? '');
      res.end(res.statusCode === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

beforeAll(() => assertBuilt());

describe('notifications from a real controller', () => {
  let lab: FleetLab;
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeEach(async () => {
    lab = new FleetLab();
    hook = await receiver();
  });
  afterEach(async () => {
    await lab.cleanup();
    await hook.close();
  });

  async function healthyAgent(controller: Controller, name: string): Promise<Agent> {
    const token = await lab.createToken(controller, { uses: 1 });
    const agent = lab.startAgent({ token, name });
    expect(await lab.waitRegistered(agent)).toBe(name);
    await lab.waitForServer(controller, name, (s) => s.health === 'healthy' && s.connected, { timeoutMs: 8_000 });
    return agent;
  }

  it('agents killed: one grouped "server down" message; started again: resolved, once each', { timeout: 90_000 }, async () => {
    const dir = lab.dir('inventory');
    const token = secret('hooktoken');
    writeFileSync(join(dir, 'hook.token'), `${token}\n`, { mode: 0o600 });
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, [
      'servers: {}',
      'monitoring:',
      '  receivers:',
      '    hook:',
      '      type: webhook',
      `      url: ${hook.url}/alerts`,
      '      bearer_token_file: hook.token',
      '  routes:',
      '    - receiver: hook',
      '      group_wait: 3s',
      '',
    ].join('\n'));
    const controller = await lab.startController({ inventory: file });
    await controller.daemon.waitForOutput(/notifications go to hook/, { stream: 'stderr', timeoutMs: 5_000 });
    const t0 = Date.now();
    const [alpha, beta] = await Promise.all([healthyAgent(controller, 'alpha'), healthyAgent(controller, 'beta')]);
    console.log(`two agents healthy: ${Date.now() - t0} ms`);
    expect(hook.received).toEqual([]);

    const killedAt = Date.now();
    alpha.daemon.signal('SIGKILL');
    beta.daemon.signal('SIGKILL');
    await Promise.all([alpha.daemon.exited, beta.daemon.exited]);
    const describe = () => `received: ${JSON.stringify(hook.received.map((r) => r.json), null, 1)}\n${lab.describe()}`;
    await waitUntil('the "server down" message', async () => hook.received.length >= 1, { timeoutMs: 15_000, describe });
    // Grouped: both servers in one message; and nothing more comes for the unchanged alerts.
    await sleep(2_500);
    expect(hook.received, describe()).toHaveLength(1);
    const down = hook.received[0] as Received;
    console.log(`SIGKILL → webhook message: ${down.at - killedAt} ms (ttl 3 s, group_wait 3 s)`);
    expect(down.path).toBe('/alerts');
    expect(down.headers.authorization).toBe(`Bearer ${token}`);
    expect(down.headers['content-type']).toBe('application/json');
    expect(down.json).toMatchObject({
      version: '4', status: 'firing', receiver: 'hook', groupKey: '{}:{alertname="ServerDown"}', truncatedAlerts: 0,
      groupLabels: { alertname: 'ServerDown' }, commonLabels: { alertname: 'ServerDown', severity: 'warning' }, externalURL: controller.url,
    });
    expect(down.json.alerts.map((a: any) => [a.labels.server, a.status, a.endsAt])).toEqual([
      ['alpha', 'firing', '0001-01-01T00:00:00Z'], ['beta', 'firing', '0001-01-01T00:00:00Z'],
    ]);
    expect(down.json.alerts[0].annotations.summary).toMatch(/^alpha is unreachable/);

    const restartedAt = Date.now();
    lab.startAgent({ stateDir: alpha.stateDir, home: alpha.home });
    lab.startAgent({ stateDir: beta.stateDir, home: beta.home });
    const resolvedFor = () => hook.received.slice(1).flatMap((r) => r.json.alerts.filter((a: any) => a.status === 'resolved').map((a: any) => a.labels.server as string)).sort();
    await waitUntil('the resolved messages', async () => resolvedFor().length >= 2, { timeoutMs: 20_000, describe });
    console.log(`restart → resolved: ${Date.now() - restartedAt} ms (flap damping may hold healthy back 3 heartbeats, group_wait 3 s)`);
    await sleep(2_500);
    // One resolved message per server at most (they may come back in one group or two), nothing firing.
    expect(resolvedFor(), describe()).toEqual(['alpha', 'beta']);
    const after = hook.received.slice(1);
    expect(after.length).toBeLessThanOrEqual(2);
    for (const message of after) expect(message.json.status).toBe('resolved');

    // Each message sent is a 'notification' event; the bearer token is nowhere.
    const events = await lab.waitForEvents(controller, 'the notification events', (all) => {
      const sent = all.filter((e) => e.kind === 'notification');
      return sent.length === hook.received.length && sent;
    });
    expect(events.map((e) => e.data)).toEqual(hook.received.map((r) => expect.objectContaining({ receiver: 'hook', type: 'webhook', result: 'sent', status: r.json.status, attempts: 1 })));
    const all = JSON.stringify(await lab.events(controller));
    expect(all).not.toContain(token);
    expect(controller.daemon.stderr).not.toContain(token);
    expect(controller.daemon.stdout).not.toContain(token);
  });
});

describe('the notifier in-process, every receiver type', () => {
  let http: Awaited<ReturnType<typeof receiver>>;
  let smtp: SMTPServer;
  let smtpPort: number;
  const mails: Array<{ from: string; to: string[]; user: string | undefined; text: string }> = [];
  const SMTP_PASSWORD = secret('smtp');

  beforeAll(async () => {
    http = await receiver((path) => (path.startsWith('/broken') ? 503 : 200));
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'], authOptional: false, logger: false, allowInsecureAuth: true,
      onAuth(auth, _session, done) {
        if (auth.username === 'cistern' && auth.password === SMTP_PASSWORD) done(null, { user: auth.username });
        else done(new Error('invalid login'));
      },
      onData(stream, session, done) {
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => {
          mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), user: session.user as string | undefined, text });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    smtpPort = (smtp.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await http.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  });

  /** A notifier over a real event log (SQLite in a temp folder), logging into memory. */
  function start(monitoring: unknown, options: Partial<NotifierOptions> = {}) {
    const dir = tempDir();
    const store = openControllerStore(join(dir, 'state.db'));
    const events = new EventLog(store.events);
    const chunks: string[] = [];
    const logger = createLogger({ name: 'notify-test', level: 'trace', destination: new Writable({ write(chunk, _e, done) { chunks.push(String(chunk)); done(); } }) });
    const notifier = new Notifier({
      events, logger, baseDir: dir, externalUrl: () => 'https://controller.test:7443', monitoring: () => monitoring,
      policy: { groupWaitMs: 200, repeatIntervalMs: 3_600_000, rateLimit: { burst: 10, intervalMs: 100 } },
      delivery: { timeoutMs: 2_000, retries: 2, retryBackoffMs: 50 }, ...options,
    });
    notifier.start();
    cleanups.push(async () => {
      await notifier.close();
      store.close();
    });
    const notifications = () => events.list({ limit: 1_000 }).filter((e) => e.kind === 'notification');
    return { dir, events, notifier, logs: () => chunks.join(''), notifications };
  }

  it('webhook, ntfy, Discord, Slack and email: each gets its own shape, and the resolved message', { timeout: 20_000 }, async () => {
    const secrets = { hook: secret('hook'), ntfy: secret('tk'), discord: `${secret('discord')}`, slack: secret('slack') };
    const discordUrl = `${http.url}/api/webhooks/1234/${secrets.discord}`;
    const slackUrl = `${http.url}/services/T000/B000/${secrets.slack}`;
    const { dir, events, logs, notifications } = start({
      receivers: {
        hook: { type: 'webhook', url: `${http.url}/hook`, bearer_token_file: 'secrets/hook' },
        phone: { type: 'ntfy', url: `${http.url}/fleet-alerts`, token_file: 'secrets/ntfy' },
        chat: { type: 'discord', webhook_url_file: 'secrets/discord' },
        team: { type: 'slack', webhook_url_file: 'secrets/slack', channel: '#fleet' },
        mail: { type: 'email', to: 'admin@example.org', from: 'cistern@example.org', smarthost: `127.0.0.1:${smtpPort}`, username: 'cistern', password_file: 'secrets/smtp', require_tls: false },
      },
      routes: ['hook', 'phone', 'chat', 'team', 'mail'].map((receiver) => ({ receiver, continue: true })),
    });
    mkdirSync(join(dir, 'secrets'));
    for (const [name, value] of Object.entries({ hook: secrets.hook, ntfy: secrets.ntfy, discord: discordUrl, slack: slackUrl, smtp: SMTP_PASSWORD })) {
      writeFileSync(join(dir, 'secrets', name), `${value}\n`, { mode: 0o600 });
    }
    http.received.length = 0;
    mails.length = 0;

    events.record('health', 'alpha', { from: 'suspect', to: 'unreachable', reason: 'no heartbeat for 15 s' });
    const describe = () => `http: ${JSON.stringify(http.received.map((r) => [r.path, r.text]))}\nmails: ${mails.length}\n${logs()}`;
    await waitUntil('five firing messages', async () => http.received.length === 4 && mails.length === 1, { timeoutMs: 8_000, describe });
    const byPath = (prefix: string) => http.received.find((r) => r.path.startsWith(prefix)) as Received;

    const hookMessage = byPath('/hook');
    expect(hookMessage.headers.authorization).toBe(`Bearer ${secrets.hook}`);
    expect(hookMessage.json).toMatchObject({ version: '4', status: 'firing', receiver: 'hook', externalURL: 'https://controller.test:7443' });
    expect(hookMessage.json.alerts[0]).toMatchObject({ status: 'firing', labels: { alertname: 'ServerDown', server: 'alpha', severity: 'warning' }, annotations: { summary: 'alpha is unreachable: no heartbeat for 15 s' } });

    const ntfy = byPath('/fleet-alerts');
    expect(ntfy.headers).toMatchObject({ title: '[FIRING:1] ServerDown', priority: '4', tags: 'warning', authorization: `Bearer ${secrets.ntfy}` });
    expect(ntfy.headers['content-type']).toMatch(/^text\/plain/);
    expect(ntfy.text).toMatch(/^FIRING warning: alpha is unreachable: no heartbeat for 15 s \(since /);

    const discord = byPath('/api/webhooks/1234/');
    expect(discord.path).toBe(`/api/webhooks/1234/${secrets.discord}`);
    expect(discord.json).toEqual({ embeds: [{ title: '[FIRING:1] ServerDown', description: expect.stringMatching(/^FIRING warning: alpha is unreachable/), color: 0x992d22 }] });

    const slack = byPath('/services/');
    expect(slack.json).toEqual({
      channel: '#fleet', text: '[FIRING:1] ServerDown',
      attachments: [{ color: 'danger', title: '[FIRING:1] ServerDown', text: expect.stringMatching(/^FIRING warning: alpha/), fallback: '[FIRING:1] ServerDown' }],
    });

    const mail = mails[0] as (typeof mails)[number];
    expect(mail).toMatchObject({ from: 'cistern@example.org', to: ['admin@example.org'], user: 'cistern' });
    expect(mail.text).toMatch(/^Subject: \[FIRING:1\] ServerDown\r?$/m);
    expect(mail.text).toContain('alpha is unreachable');

    events.record('health', 'alpha', { from: 'unreachable', to: 'healthy', reason: 'heartbeat received' });
    await waitUntil('five resolved messages', async () => http.received.length === 8 && mails.length === 2, { timeoutMs: 8_000, describe });
    expect(byPath('/hook') && http.received.filter((r) => r.path === '/hook').map((r) => r.json.status)).toEqual(['firing', 'resolved']);
    expect(http.received.filter((r) => r.path === '/fleet-alerts').at(-1)?.headers).toMatchObject({ title: '[RESOLVED] ServerDown', priority: '2', tags: 'white_check_mark' });
    expect(mails[1]?.text).toMatch(/^Subject: \[RESOLVED\] ServerDown\r?$/m);

    expect(notifications().map((e) => `${e.data.receiver} ${e.data.result} ${e.data.status}`).sort()).toEqual(
      ['chat', 'hook', 'mail', 'phone', 'team'].flatMap((r) => [`${r} sent firing`, `${r} sent resolved`]).sort());
    const everything = logs() + JSON.stringify(events.list({ limit: 1_000 }));
    for (const value of [...Object.values(secrets), SMTP_PASSWORD]) expect(everything).not.toContain(value);
  });

  it('a burst: the rate limit holds messages back and folds them into the next, with the count', { timeout: 20_000 }, async () => {
    const { events, notifications } = start({ receivers: { hook: { type: 'webhook', url: `${http.url}/burst` } } }, {
      policy: { groupWaitMs: 0, repeatIntervalMs: 3_600_000, rateLimit: { burst: 2, intervalMs: 1_500 } },
    });
    http.received.length = 0;
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      events.record('health', `s${i}`, { from: 'suspect', to: 'unreachable' });
      await sleep(20);
    }
    events.record('service-failed', 's0', { service: 'sonarr', restarts: 5 });
    events.record('deploy-failed', 's1', { error: 'exit 1' });
    const burst = () => http.received.filter((r) => r.path === '/burst');
    await waitUntil('the folded message', async () => burst().length >= 3, { timeoutMs: 5_000 });
    await sleep(1_700);
    const messages = burst();
    // Two at once (the burst), then one per 1.5 s: never more.
    messages.forEach((m, i) => messages.slice(i).forEach((n, j) => expect(j + 1).toBeLessThanOrEqual(2 + Math.floor((n.at - m.at) / 1_400))));
    expect(messages.slice(0, 2).every((m) => m.at - started < 1_000)).toBe(true);
    expect(messages).toHaveLength(3);
    // Nothing lost: every alert is in some message, the third message says how many it stands for.
    const told = messages.flatMap((m) => m.json.alerts.map((a: any) => `${a.labels.alertname} ${a.labels.server}`)).sort();
    expect(told).toEqual([...Array.from({ length: 12 }, (_, i) => `ServerDown s${i}`), 'ServiceFailed s0', 'DeployFailed s1'].sort());
    const third = messages[2] as Received;
    expect(third.json.folded).toBe(11);
    expect(third.json.groupLabels).toEqual({});
    expect(notifications().map((e) => e.data.folded)).toEqual([0, 0, 11]);
  });

  it('a failing receiver is retried a bounded number of times, reported, and holds back no other', { timeout: 20_000 }, async () => {
    const hidden = secret('path');
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const { events, logs, notifications } = start({
      receivers: {
        broken: { type: 'webhook', url: `${http.url}/broken/${hidden}` },
        gone: { type: 'webhook', url: `http://127.0.0.1:${closedPort}/nothing-listens-here` },
        nofile: { type: 'discord', webhook_url_file: 'missing.url' },
        fine: { type: 'webhook', url: `${http.url}/fine` },
      },
      routes: ['broken', 'gone', 'nofile', 'fine'].map((receiver) => ({ receiver, continue: true })),
    });
    http.received.length = 0;
    events.record('health', 'alpha', { from: 'suspect', to: 'unreachable' });
    await waitUntil('the working receiver', async () => http.received.some((r) => r.path === '/fine'), { timeoutMs: 3_000 });
    const reported = await waitUntil('a report from every receiver', async () => {
      const all = notifications();
      return all.length === 4 && all;
    }, { timeoutMs: 5_000, describe: logs });
    const byReceiver = Object.fromEntries(reported.map((e: FleetEvent) => [e.data.receiver, e.data]));
    expect(byReceiver.fine).toMatchObject({ result: 'sent', attempts: 1 });
    expect(byReceiver.broken).toMatchObject({ result: 'failed', attempts: 3, code: 'E_NOTIFY_SEND', error: 'HTTP 503' });
    expect(byReceiver.gone).toMatchObject({ result: 'failed', attempts: 3, error: 'connection refused (ECONNREFUSED)' });
    expect(byReceiver.nofile).toMatchObject({ result: 'failed', attempts: 1, error: expect.stringMatching(/^cannot read webhook_url_file \S+missing\.url: ENOENT$/) });
    expect(http.received.filter((r) => r.path.startsWith('/broken'))).toHaveLength(3);
    expect(logs()).toContain('notification failed for broken: HTTP 503');
    expect(logs() + JSON.stringify(events.list({ limit: 100 }))).not.toContain(hidden);
  });

  // Each problem the controller knows, as its events: the first three the Prometheus rules see too.
  function everyProblem(events: EventLog): void {
    events.record('health', 'alpha', { from: 'suspect', to: 'unreachable', reason: 'no heartbeat for 15 s' });
    events.record('service-failed', 'beta', { service: 'sonarr', restarts: 5 });
    events.record('failover', null, { service: 'jellyfin', from: 'alpha', to: 'beta', cause: 'alpha is unreachable', epoch: 3 });
    events.record('deploy-failed', 'gamma', { error: 'nixos-rebuild exited 1' });
  }

  it('notifications_from: alertmanager: no ServerDown, ServiceFailed or failover from the controller, but DeployFailed', { timeout: 10_000 }, async () => {
    const { events, logs, notifications } = start({
      receivers: { hook: { type: 'webhook', url: `${http.url}/left-to-alertmanager` } }, notifications_from: 'alertmanager',
    });
    http.received.length = 0;
    everyProblem(events);
    const received = () => http.received.filter((r) => r.path === '/left-to-alertmanager');
    await waitUntil('the deploy failure', async () => received().length >= 1, { timeoutMs: 3_000, describe: logs });
    // Past two group waits: anything else would have come by now.
    await sleep(600);
    expect(received().flatMap((r) => r.json.alerts.map((a: any) => `${a.labels.alertname} ${a.status}`))).toEqual(['DeployFailed firing']);
    expect(notifications().map((e) => e.data.groups)).toEqual([['DeployFailed']]);
    expect(logs()).toContain('ServerDown, ServiceFailed, ServiceFailover left to Alertmanager (monitoring.notifications_from)');
    // The end of a muted problem is not news either.
    events.record('health', 'alpha', { from: 'unreachable', to: 'healthy' });
    await sleep(600);
    expect(received()).toHaveLength(1);
  });

  for (const from of ['controller', 'both'] as const) {
    it(`notifications_from: ${from}: the controller tells of every problem`, { timeout: 10_000 }, async () => {
      const { events, logs } = start({ receivers: { hook: { type: 'webhook', url: `${http.url}/from-${from}` } }, notifications_from: from });
      http.received.length = 0;
      everyProblem(events);
      const told = () => http.received.filter((r) => r.path === `/from-${from}`).flatMap((r) => r.json.alerts.map((a: any) => a.labels.alertname as string)).sort();
      await waitUntil('four alerts', async () => told().length >= 4, { timeoutMs: 3_000, describe: logs });
      expect(told()).toEqual(['DeployFailed', 'ServerDown', 'ServiceFailed', 'ServiceFailover']);
    });
  }

  it('invalid settings are refused with their field paths; nothing is sent', { timeout: 10_000 }, async () => {
    const { events, logs, notifications } = start({ receivers: { hook: { type: 'webhook', url: 'not a url' } }, routes: [{ receiver: 'nobody' }] });
    events.record('health', 'alpha', { from: 'suspect', to: 'unreachable' });
    await sleep(500);
    expect(notifications()).toEqual([]);
    expect(logs()).toContain('notification settings refused: monitoring.receivers.hook.url: an http:// or https:// URL');
    expect(logs()).toContain('"code":"E_NOTIFY_CONFIG"');
  });
});
