/**
 * A real Prometheus on the generated configuration, in the fleet lab: the controller and
 * Prometheus (with Alertmanager and a webhook sink) on h1, agents, Debian's node_exporter and a
 * Jellyfin stand-in with its /metrics on h2 and h3. Prometheus finds every target through the
 * controller's HTTP service discovery and scrapes them all (agents over HTTPS with the scrape
 * token); then Jellyfin stops on h3, and its ServiceDown alert goes pending and then firing; then
 * h3's agent dies, and ServerDown does the same and reaches the webhook through Alertmanager. With
 * `notifications_from: alertmanager`, the controller's own notifier (which reads the same
 * receivers) says nothing of it.
 *
 * Fast timing comes from the inventory (1 s scrape and evaluation, ServerDown after 4 s without a
 * heartbeat) and from `cistern monitoring generate --alert-for 3s`, which replaces every rule's
 * `for:`. Every process runs inside a lab namespace, and all traffic stays there: the test asks
 * Prometheus' API from inside h1 (`h1.http`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLab, type Lab, type LabHost } from './lab/index.js';
import { waitUntil } from './support/fleet.js';

const PROMETHEUS = '/usr/bin/prometheus';
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const SINK_PORT = 9099;
const EXPORTARR_BAZARR_PORT = 9710;

interface Target { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string; scrapeInterval: string; scrapeTimeout: string }
interface Alert { labels: Record<string, string>; state: 'pending' | 'firing' }

/** Prometheus' HTTP API, asked from inside h1. */
async function api<T>(h1: LabHost, path: string): Promise<T> {
  const answer = await h1.http(`http://127.0.0.1:9090${path}`, { timeoutMs: 5_000 });
  if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status ?? answer.error} ${answer.body}`);
  return (JSON.parse(answer.body) as { data: T }).data;
}

/** Every state an alert is seen in, in order, until it fires. */
async function watchAlert(h1: LabHost, lab: Lab, name: string, labels: Record<string, string>): Promise<string[]> {
  const seen: string[] = [];
  const matches = (a: Alert) => a.labels.alertname === name && Object.entries(labels).every(([k, v]) => a.labels[k] === v);
  await waitUntil(`${name} ${JSON.stringify(labels)} to fire`, async () => {
    const { alerts } = await api<{ alerts: Alert[] }>(h1, '/api/v1/alerts');
    const state = alerts.find(matches)?.state;
    if (state && seen.at(-1) !== state) seen.push(state);
    return state === 'firing';
  }, { timeoutMs: 30_000, intervalMs: 150, describe: () => `states seen: ${seen.join(' → ') || 'none'}\n${lab.hosts.map((h) => [...h.processes.values()].map((p) => p.describe()).join('\n')).join('\n')}` });
  return seen;
}

/** Stands in for exportarr's bazarr exporter (not in Debian): its status metric, always 1. */
const EXPORTARR = `
require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  res.end('# HELP bazarr_system_status System Status\\n# TYPE bazarr_system_status gauge\\nbazarr_system_status 1\\n');
}).listen(${EXPORTARR_BAZARR_PORT}, '0.0.0.0', () => console.log('exportarr listening'));
`;

const SINK = `
const http = require('node:http');
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => { console.log('notification ' + body.replace(/\\n/g, ' ')); res.end('ok'); });
}).listen(${SINK_PORT}, '127.0.0.1', () => console.log('sink listening'));
`;

describe('monitoring: a real Prometheus on the generated configuration', () => {
  it('scrapes every target found through HTTP SD, and alerts go pending then firing', { timeout: 200_000 }, async () => {
    // A test never skips: a missing tool fails with what to install.
    for (const tool of [PROMETHEUS, ALERTMANAGER, NODE_EXPORTER]) {
      if (!existsSync(tool)) throw new Error(`${tool} is missing: run \`bash scripts/ensure-test-deps.sh\` as root (Debian prometheus, prometheus-alertmanager, prometheus-node-exporter)`);
    }
    const lab = await createLab({
      hosts: 3, timeLimitMs: 180_000,
      services: (h) => ({ sshd: false, transmission: false, media: h.name === 'h1' ? false : ['jellyfin'] }),
    });
    try {
      const [h1, h2, h3] = lab.hosts as [LabHost, LabHost, LabHost];
      const inventory = join(h1.dir, 'inventory.yaml');
      writeFileSync(inventory, [
        'servers:',
        `  h1: {hostname: ${h1.address}, location: cupboard, role: storage, services: [prometheus, alertmanager]}`,
        `  h2: {hostname: ${h2.address}, location: living-room, role: primary, tags: [tv, family], services: [jellyfin, bazarr]}`,
        `  h3: {hostname: ${h3.address}, location: attic, role: secondary, tags: [tv], services: [jellyfin]}`,
        // Bazarr's exporter is scraped every 60 s by the catalog; 2 s here, to see the per-target interval.
        'services:',
        '  bazarr: {metrics: {exportarr: bazarr, scrape_interval_s: 2}}',
        'monitoring:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        // Alertmanager speaks for the alerts the controller also knows: this test follows its notice.
        '  notifications_from: alertmanager',
        '  alerts: {server_down_after: 4s}',
        '  receivers:',
        `    sink: {type: webhook, url: "http://127.0.0.1:${SINK_PORT}/alerts"}`,
        '  routes:',
        '    - {receiver: sink, group_wait: 1s, group_interval: 1s, repeat_interval: 1h}',
        '',
      ].join('\n'));
      await h1.startController({ inventory, mdns: false });
      const token = await h1.cistern(['token', 'create', '--ttl', '10m', '--json']);
      const joinCommand = (JSON.parse(token.stdout) as { command: string }).command;
      await Promise.all([h2, h3].map((h) => h.startAgent({ joinCommand, mdns: false })));
      await h2.spawn('exportarr-bazarr', process.execPath, ['-e', EXPORTARR]).waitForLog(/exportarr listening/, 10_000);
      await Promise.all(lab.hosts.map(async (h) => {
        const exporter = h.spawn('node-exporter', NODE_EXPORTER, ['--web.listen-address=:9100', '--collector.disable-defaults', '--collector.cpu', '--collector.meminfo', '--collector.filesystem', '--collector.loadavg', '--collector.hwmon', '--collector.thermal_zone']);
        await exporter.waitForLog(/Listening on/, 10_000);
      }));

      const out = join(h1.dir, 'monitoring');
      const generated = await h1.cistern(['monitoring', 'generate', '--out', out, '--file', inventory, '--issue-token', '--alert-for', '3s', '--json']);
      expect(generated.code, generated.stderr + generated.stdout).toBe(0);
      const sink = h1.spawn('sink', process.execPath, ['-e', SINK]);
      await sink.waitForLog(/sink listening/, 10_000);
      mkdirSync(join(h1.dir, 'alertmanager-data'));
      const alertmanager = h1.spawn('alertmanager', ALERTMANAGER, [
        `--config.file=${join(out, 'alertmanager.yml')}`, `--storage.path=${join(h1.dir, 'alertmanager-data')}`, '--web.listen-address=127.0.0.1:9093', '--cluster.listen-address=',
      ]);
      await alertmanager.waitForLog(/Listening on|Listening address/, 15_000);
      const prometheus = h1.spawn('prometheus', PROMETHEUS, [
        `--config.file=${join(out, 'prometheus.yml')}`, `--storage.tsdb.path=${join(h1.dir, 'prometheus-data')}`, '--web.listen-address=127.0.0.1:9090',
      ]);
      await prometheus.waitForLog(/Server is ready to receive web requests/, 20_000);

      // Every target the controller lists is up: found through HTTP SD, scraped with the token.
      const expected = [
        `cistern-controller ${h1.address}:7443`,
        `cistern-agent ${h2.address}:9810`, `cistern-agent ${h3.address}:9810`,
        `node ${h1.address}:9100`, `node ${h2.address}:9100`, `node ${h3.address}:9100`,
        `jellyfin ${h2.address}:8096`, `jellyfin ${h3.address}:8096`, `exportarr ${h2.address}:${EXPORTARR_BAZARR_PORT}`,
      ].sort();
      let last: Target[] = [];
      const targets = await waitUntil('every discovered target up', async () => {
        last = (await api<{ activeTargets: Target[] }>(h1, '/api/v1/targets?state=active')).activeTargets;
        const up = last.filter((t) => t.health === 'up').map((t) => `${t.labels.job} ${t.labels.instance}`).sort();
        return JSON.stringify(up) === JSON.stringify(expected) && last.length === expected.length ? last : undefined;
      }, { timeoutMs: 30_000, intervalMs: 500, describe: () => JSON.stringify(last.map((t) => ({ job: t.labels.job, url: t.scrapeUrl, health: t.health, error: t.lastError })), null, 1) });
      const agentH2 = targets.find((t) => t.labels.job === 'cistern-agent' && t.labels.server === 'h2');
      expect(agentH2?.scrapeUrl).toBe(`https://${h2.address}:9810/metrics`);
      expect(agentH2?.labels).toMatchObject({ server: 'h2', location: 'living-room', role: 'primary', tags: ',family,tv,' });
      expect(agentH2?.labels.profile).toBeTruthy();
      expect(targets.find((t) => t.labels.job === 'jellyfin' && t.labels.server === 'h3')?.labels).toMatchObject({ service: 'jellyfin', location: 'attic' });
      expect(targets.find((t) => t.labels.job === 'exportarr')).toMatchObject({ labels: { service: 'bazarr', server: 'h2' }, scrapeInterval: '2s', scrapeTimeout: '2s' });
      // What the agents and the controller export is in Prometheus.
      const connected = await api<{ result: Array<{ metric: Record<string, string> }> }>(h1, `/api/v1/query?query=${encodeURIComponent('cistern_agent_controller_connected == 1')}`);
      expect(connected.result.map((r) => r.metric.server).sort()).toEqual(['h2', 'h3']);

      // Jellyfin stops on h3: its own endpoint goes down, ServiceDown goes pending, then fires.
      await lab.kill(h3, 'jellyfin');
      expect(await watchAlert(h1, lab, 'ServiceDown', { server: 'h3', service: 'jellyfin' })).toEqual(['pending', 'firing']);

      // h3's agent dies: no heartbeat for 4 s, ServerDown goes pending, then fires, and reaches the webhook.
      await lab.kill(h3, 'agent');
      expect(await watchAlert(h1, lab, 'ServerDown', { server: 'h3' })).toEqual(['pending', 'firing']);
      // The controller's own notifier would post to the same receiver; Alertmanager's posts name it (port 9093).
      const notifications = () => sink.log().split('\n')
        .flatMap((line) => (line.startsWith('notification ') ? [JSON.parse(line.slice('notification '.length)) as { externalURL: string; commonLabels: Record<string, string> }] : []));
      const notification = await waitUntil('Alertmanager\'s ServerDown notification', async () => notifications()
        .find((n) => n.externalURL.includes(':9093') && n.commonLabels.alertname === 'ServerDown'), { timeoutMs: 15_000, describe: () => `${sink.describe()}\n${alertmanager.describe()}` });
      expect(notification).toMatchObject({ status: 'firing', receiver: 'sink', commonLabels: { alertname: 'ServerDown', server: 'h3', severity: 'critical' } });
      // notifications_from: alertmanager — the controller, which saw h3 go unreachable first (at its
      // 3 s TTL), kept quiet about it: one notice of the problem, not two.
      expect(notifications().filter((n) => n.commonLabels.alertname === 'ServerDown' && !n.externalURL.includes(':9093')), sink.log()).toEqual([]);
      // h2 stayed quiet.
      const { alerts } = await api<{ alerts: Alert[] }>(h1, '/api/v1/alerts');
      expect(alerts.filter((a) => a.labels.server === 'h2')).toEqual([]);
    } finally {
      await lab.destroy();
    }
  });
});
