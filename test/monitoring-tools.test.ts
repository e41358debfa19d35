/**
 * The generated monitoring configuration against the real tools (Debian's `prometheus` and
 * `prometheus-alertmanager`): `promtool check config`, `promtool check rules`, `promtool test
 * rules` (each alert's unit test, firing and not firing) and `amtool check-config`, for default
 * and customised inventories; then the CLI end to end on loopback: `cistern monitoring token`,
 * `generate` and `targets` against a real controller, and an agent's HTTPS /metrics reached
 * with the generated CA and scrape token.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../src/inventory/schema.js';
import { generateMonitoring } from '../src/monitoring/generate.js';
import { unknownMetricNames } from '../src/monitoring/metric-check.js';
import { assertBuilt } from './support/cistern.js';
import { FleetLab, waitUntil } from './support/fleet.js';
import { run } from './support/process.js';

const PROMTOOL = '/usr/bin/promtool';
const AMTOOL = '/usr/bin/amtool';

beforeAll(() => {
  for (const tool of [PROMTOOL, AMTOOL]) {
    if (!statSync(tool, { throwIfNoEntry: false })) throw new Error(`${tool} is missing: run \`bash scripts/ensure-test-deps.sh\` as root (Debian packages prometheus, prometheus-alertmanager)`);
  }
});

function writeAll(dir: string, files: ReadonlyArray<{ path: string; content: string; mode: number }>): void {
  for (const f of files) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    writeFileSync(join(dir, f.path), f.content, { mode: f.mode });
  }
}

function filesUnder(dir: string): Array<{ path: string; content: string }> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile())
    .map((p) => ({ path: relative(dir, join(dir, p)), content: readFileSync(join(dir, p), 'utf8') }));
}

/** Runs a check in `dir`; a failure shows the tool's own output. */
async function check(dir: string, tool: string, args: readonly string[]): Promise<string> {
  const result = await run(tool, args, { timeoutMs: 30_000, env: { ...process.env, PWD: dir } });
  const output = `${result.stdout}${result.stderr}`;
  expect(result.code, `${tool} ${args.join(' ')}:\n${output}`).toBe(0);
  return output;
}

async function checkAll(dir: string): Promise<void> {
  await check(dir, PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')]);
  expect(await check(dir, PROMTOOL, ['check', 'rules', join(dir, 'rules/cistern.rules.yml')])).toContain('SUCCESS: 9 rules found');
  expect(await check(dir, PROMTOOL, ['test', 'rules', join(dir, 'rules/cistern.rules.test.yml')])).toContain('SUCCESS');
  await check(dir, AMTOOL, ['check-config', join(dir, 'alertmanager.yml')]);
  expect(unknownMetricNames(filesUnder(dir))).toEqual([]);
}

const labs: FleetLab[] = [];
afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.cleanup();
});
function newLab(): FleetLab {
  const lab = new FleetLab();
  labs.push(lab);
  return lab;
}

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIQ\n-----END CERTIFICATE-----\n';

const INVENTORIES: Record<string, { inventory: Inventory; alertFor?: string }> = {
  'an original inventory (defaults everywhere)': {
    inventory: { servers: { eden: { hostname: '192.168.1.10', services: ['jellyfin'] } }, monitoring: { prometheus_port: 9090, grafana_port: 3000, loki_port: 3100, alertmanager_port: 9093 } },
  },
  'thresholds, intervals, --alert-for and every kind of receiver': {
    alertFor: '5s',
    inventory: {
      servers: {
        eden: { hostname: '192.168.1.10', services: ['jellyfin', 'sonarr', 'radarr', 'prometheus', 'grafana'] },
        attic: { hostname: 'attic.lan', services: ['alertmanager', 'bazarr', 'sabnzbd'] },
      },
      monitoring: {
        scrape_interval: '10s', evaluation_interval: '5s', exportarr: { sonarr: 19707 },
        alerts: {
          server_down_after: '5s', disk_full_percent: 92.5, temperature_celsius: 70, backup_max_age: '2h', certificate_min_days: 30,
          restart_loop_restarts: 5, restart_loop_window: '10m', heartbeat_lag_seconds: 0.5,
        },
        receivers: {
          phone: { type: 'ntfy', url: 'https://ntfy.example.org/fleet', token_file: 'secrets/ntfy-token' },
          mail: { type: 'email', to: 'me@example.org', from: 'fleet@example.org', smarthost: 'smtp.example.org:587', username: 'fleet', password_file: 'secrets/smtp-password' },
          family: { type: 'discord', webhook_url_file: 'secrets/discord-url' },
          team: { type: 'slack', webhook_url_file: 'secrets/slack-url', channel: '#alerts' },
          hook: { type: 'webhook', url: 'https://example.org/hook', bearer_token_file: 'secrets/hook-token' },
        },
        routes: [
          { receiver: 'phone', severity: 'critical', continue: true, repeat_interval: '1h' },
          { receiver: 'family', alerts: ['ServerDown', 'DiskAlmostFull'], match: { location: 'home' }, match_re: { server: 'eden|attic' }, group_by: ['alertname'] },
        ],
        default_receiver: 'mail',
      },
    },
  },
};

describe('monitoring: generated files pass Prometheus\' and Alertmanager\'s own checks', () => {
  for (const [name, { inventory, alertFor }] of Object.entries(INVENTORIES)) {
    it(name, { timeout: 60_000 }, async () => {
      const dir = newLab().dir('generated');
      writeAll(dir, generateMonitoring({ inventory, controllerUrl: 'https://192.168.1.5:7443', caPem: CERT, agentsCaPem: CERT, alertFor, scrapeToken: 'csm_1a2b3c4d.x' }).files);
      await checkAll(dir);
    });
  }

  // notifications_from picks who notifies what both the controller and the rules see: amtool
  // itself says where Alertmanager sends each alert under each setting.
  const SHARED = ['ServerDown', 'ServiceDown', 'FailoverHappened'];
  const OTHERS = ['DiskAlmostFull', 'HighTemperature', 'CertificateExpiring', 'StaleBackup', 'RestartLoop', 'HeartbeatLag'];
  for (const [from, shared] of [[undefined, '_cistern-controller-notifies'], ['controller', '_cistern-controller-notifies'], ['alertmanager', 'phone'], ['both', 'phone']] as const) {
    it(`notifications_from: ${from ?? 'unset (controller)'}: shared alerts go to ${shared}, the others as routed`, { timeout: 60_000 }, async () => {
      const dir = newLab().dir('generated');
      const inventory: Inventory = {
        servers: { eden: { hostname: '192.168.1.10' } },
        monitoring: {
          receivers: { phone: { type: 'ntfy', url: 'https://ntfy.example.org/fleet' }, mail: { type: 'email', to: 'me@example.org', from: 'fleet@example.org', smarthost: 'smtp.example.org:587' } },
          // A route that would take every alert, shared ones included, and one that follows it.
          routes: [{ receiver: 'phone', continue: true }, { receiver: 'mail', severity: 'warning' }],
          ...(from && { notifications_from: from }),
        },
      };
      writeAll(dir, generateMonitoring({ inventory, controllerUrl: 'https://c:7443', caPem: CERT, agentsCaPem: CERT }).files);
      await check(dir, AMTOOL, ['check-config', join(dir, 'alertmanager.yml')]);
      const routed = async (alertname: string, severity: string) => {
        const args = ['config', 'routes', 'test', `--config.file=${join(dir, 'alertmanager.yml')}`, `alertname=${alertname}`, `severity=${severity}`, 'server=eden'];
        const result = await run(AMTOOL, args, { timeoutMs: 30_000 });
        expect(result.code, `amtool ${args.join(' ')}:\n${result.stdout}${result.stderr}`).toBe(0);
        // The receivers, comma-separated, on stdout (a note about --alertmanager.url goes to stderr).
        return result.stdout.trim();
      };
      for (const alertname of SHARED) expect(await routed(alertname, 'critical'), alertname).toBe(shared);
      expect(await routed('FailoverHappened', 'warning')).toBe(shared === 'phone' ? 'phone,mail' : shared);
      for (const alertname of OTHERS) expect(await routed(alertname, 'warning'), alertname).toBe('phone,mail');
    });
  }

  it('promtool test rules fails when a rule no longer fires as its test says', { timeout: 30_000 }, async () => {
    const dir = newLab().dir('generated');
    writeAll(dir, generateMonitoring({ inventory: {}, controllerUrl: 'https://c:7443', caPem: CERT, agentsCaPem: CERT }).files);
    const rules = join(dir, 'rules/cistern.rules.yml');
    writeFileSync(rules, readFileSync(rules, 'utf8').replace('node_hwmon_temp_celsius) > 80', 'node_hwmon_temp_celsius) > 800'));
    const result = await run(PROMTOOL, ['test', 'rules', join(dir, 'rules/cistern.rules.test.yml')], { timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('alertname: HighTemperature');
  });
});

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('monitoring: the CLI against a controller and an agent on loopback', () => {
  beforeAll(() => assertBuilt());

  it('token, generate and targets; the agent serves /metrics over HTTPS to the generated CA and token', { timeout: 60_000 }, async () => {
    const lab = newLab();
    const inventoryDir = lab.dir('inventory');
    const inventory = join(inventoryDir, 'inventory.yaml');
    writeFileSync(inventory, 'servers:\n  eden:\n    hostname: 127.0.0.1\n    location: lab\n    tags: [tv]\n    services: [jellyfin]\nmonitoring: {alertmanager_port: 9093}\n');
    const controller = await lab.startController({ inventory });
    const agent = lab.startAgent({ token: await lab.createToken(controller), name: 'eden', args: ['--metrics-listen', '127.0.0.1:0'] });
    await lab.waitRegistered(agent);
    const out = lab.dir('monitoring');
    const generated = await lab.json<{ files: string[]; scrapeTokenIssued: boolean; notificationsFrom: string; warnings: string[] }>(controller, ['monitoring', 'generate', '--out', out, '--file', inventory, '--issue-token']);
    expect(generated.scrapeTokenIssued).toBe(true);
    expect(generated.notificationsFrom).toBe('controller');
    expect(statSync(join(out, 'secrets/scrape-token')).mode & 0o777).toBe(0o600);
    await checkAll(out);

    const token = readFileSync(join(out, 'secrets/scrape-token'), 'utf8').trim();
    type Group = { targets: string[]; labels: Record<string, string> };
    const agentTarget = await waitUntil('the agent in the service discovery', async () => {
      const groups = await lab.json<Group[]>(controller, ['monitoring', 'targets', '--scrape', 'cistern-agent']);
      return groups.find((g) => g.labels.server === 'eden' && g.targets[0] !== '127.0.0.1:9810');
    }, { timeoutMs: 10_000, describe: () => lab.describe() });
    expect(agentTarget.labels).toMatchObject({ job: 'cistern-agent', location: 'lab', tags: ',tv,' });
    const text = await lab.cli(controller, ['monitoring', 'targets']);
    expect(text.stdout).toMatch(/^JOB\s+TARGET\s+SERVER\s+LABELS$/m);
    expect(text.stdout).toMatch(/^node\s+127\.0\.0\.1:9100\s+eden\s+/m);

    const agentsCa = readFileSync(join(out, 'secrets/agents-ca.pem'), 'utf8');
    const scrape = await waitUntil('the agent\'s /metrics', async () => {
      const answer = await httpsGet(`https://${agentTarget.targets[0]}/metrics`, agentsCa, token);
      return answer.status === 200 ? answer : undefined;
    }, { timeoutMs: 10_000, describe: () => lab.describe() });
    expect(scrape.body).toMatch(/^cistern_agent_controller_connected 1$/m);
    expect(scrape.body).toMatch(/^cistern_agent_info\{version="[^"]+",profile="[^"]+"\} 1$/m);
    expect((await httpsGet(`https://${agentTarget.targets[0]}/metrics`, agentsCa, 'csm_00000000.wrong')).status).toBe(401);

    const controllerCa = readFileSync(join(out, 'secrets/controller-ca.pem'), 'utf8');
    const metrics = await httpsGet(`${controller.url}/metrics`, controllerCa, token);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('cistern_registrations_total{via="token"} 1');

    // A new token replaces the old one on the controller and the agent alike.
    const rotated = join(out, 'secrets/scrape-token');
    await lab.cli(controller, ['monitoring', 'token', '--out', rotated]);
    const fresh = readFileSync(rotated, 'utf8').trim();
    expect(fresh).not.toBe(token);
    await waitUntil('the agent to refuse the old token', async () => (await httpsGet(`https://${agentTarget.targets[0]}/metrics`, agentsCa, token)).status === 401, { timeoutMs: 5_000 });
    expect((await httpsGet(`https://${agentTarget.targets[0]}/metrics`, agentsCa, fresh)).status).toBe(200);
  });
});
