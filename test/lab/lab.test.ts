/**
 * The fleet lab itself: isolation, reachability, multicast, every stand-in answer, the real
 * transmission-daemon and sshd, every fault, a Cistern controller and agents across the lab,
 * and teardown in every way a run can end.
 *
 * Needs root, iproute2, openssh-server, transmission-daemon (`bash scripts/ensure-test-deps.sh`)
 * and a built CLI (`npm run build`; `npm test` builds first). A machine that cannot build the
 * lab fails this file with the reason; it never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerView } from '../../src/controller/core.js';
import { ROOT } from '../support/cistern.js';
import { waitUntil } from '../support/fleet.js';
import { createNetworkNamespace } from '../support/netns.js';
import { runOk } from '../support/process.js';
import { sshdVersion } from '../support/sshd.js';
import {
  cleanupStale, createLab, LAB_ROOT, MEDIA_APPS, NAMESPACE_PREFIX, processState, TRANSMISSION_RPC_PORT, withLab, type HttpResult, type Lab, type LabHost,
} from './index.js';
import { listNamespaces } from './network.js';

const ip = async (...args: string[]) => (await runOk('ip', args)).stdout;
const rootLinks = async () => (JSON.parse(await ip('-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
const alive = (pid: number) => processState(pid) !== undefined && processState(pid) !== 'Z';
const json = (r: HttpResult) => JSON.parse(r.body) as Record<string, unknown>;

/** Whether the running kernel says it has netem, from /proc/config.gz: true, false, or undefined when it does not say. */
function kernelHasNetem(): boolean | undefined {
  try {
    const config = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    return /^CONFIG_NET_SCH_NETEM=[ym]$/m.test(config);
  } catch {
    return undefined;
  }
}

describe('a lab of three hosts', () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let h3: LabHost;
  let linksBefore: string[];
  let key: string;

  beforeAll(async () => {
    linksBefore = await rootLinks();
    lab = await createLab({ hosts: 3, fleet: { controller: 'h1', agents: ['h2', 'h3'] } });
    [h1, h2, h3] = lab.hosts as [LabHost, LabHost, LabHost];
    key = lab.apiKey;
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('gives each host its own namespace holding only lo and eth0 with its own address, and runs every process inside it', async () => {
    expect(lab.hosts.map((h) => [h.name, h.address])).toEqual([['h1', '10.213.0.11'], ['h2', '10.213.0.12'], ['h3', '10.213.0.13']]);
    for (const host of lab.hosts) {
      const links = JSON.parse(await ip('-n', host.namespace, '-j', 'link', 'show')) as Array<{ ifname: string; flags: string[] }>;
      expect(links.map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
      expect(links.find((l) => l.ifname === 'eth0')?.flags).toContain('MULTICAST');
      expect(await ip('-n', host.namespace, '-4', '-o', 'addr', 'show', 'dev', 'eth0')).toContain(`inet ${host.address}/24`);
      expect((await ip('-n', host.namespace, 'route', 'show', 'default')).trim()).toBe('');
    }
    // The bridge and the switch ends of the cables live in the switch namespace.
    const switchLinks = (JSON.parse(await ip('-n', lab.switchNamespace, '-j', 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
    expect(switchLinks).toEqual(['br0', 'h1', 'h2', 'h3', 'lo']);
    await lab.verifyProcesses();
    expect([...h2.processes.keys()].sort()).toEqual(['agent', 'bazarr', 'jellyfin', 'prowlarr', 'radarr', 'sabnzbd', 'sonarr', 'sshd', 'transmission']);
  });

  it('leaves the root namespace untouched: no lab interface, no lab address, no route into the lab', async () => {
    expect(await rootLinks()).toEqual(linksBefore);
    expect(await ip('-4', '-o', 'addr', 'show')).not.toMatch(/\binet 10\.213\.0\./);
    // Nothing routes the lab's range from here: only the default route (out of the machine, where
    // no lab host is) would take it. The test sends nothing from the root namespace.
    expect((await ip('-4', 'route', 'show', '10.213.0.0/24')).trim()).toBe('');
    expect(await ip('-4', 'route', 'show', 'table', 'all')).not.toMatch(/10\.213\./);
  });

  it('is unreachable from outside: a namespace not on the bridge fails at once with no route', async () => {
    const outside = await createNetworkNamespace();
    try {
      const result = await outside.exec(process.execPath, ['-e', `
        const s = require('node:net').connect({ host: '${h2.address}', port: ${MEDIA_APPS.jellyfin.port} });
        s.on('connect', () => { console.log('connected'); process.exit(0); });
        s.on('error', (e) => { console.log(e.code); process.exit(0); });
        setTimeout(() => { console.log('timeout'); process.exit(0); }, 3000);`]);
      expect(result.stdout.trim()).toBe('ENETUNREACH');
    } finally {
      await outside.remove();
    }
  });

  it('lets a host reach a service on another host by address over TCP', async () => {
    const tcp = await h1.tcp(h2.address, MEDIA_APPS.jellyfin.port);
    expect(tcp).toMatchObject({ connected: true });
    const health = await h3.http(h2.url('jellyfin', '/health'));
    expect(health.status).toBe(200);
  });

  it('carries multicast across the bridge: an mDNS datagram from h1 reaches h2 and h3', async () => {
    const receive = (host: LabHost) => host.spawn(`mdns-listener-${host.name}`, process.execPath, ['-e', `
      const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true });
      // The lab's own agents announce themselves on 5353 too: wait for this test's datagram.
      s.on('message', (m, r) => { if (String(m) !== 'cistern lab hello') return; console.log('got ' + JSON.stringify({ from: r.address, text: String(m) })); process.exit(0); });
      s.bind(5353, () => { s.addMembership('224.0.0.251', '${host.address}'); console.log('joined'); });
      setTimeout(() => process.exit(1), 8000);`]);
    const listeners = [receive(h2), receive(h3)];
    await Promise.all(listeners.map((l) => l.waitForLog(/^joined$/m)));
    await h1.exec(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.bind(() => {
        s.setMulticastInterface('${h1.address}');
        let n = 0;
        const t = setInterval(() => { s.send('cistern lab hello', 5353, '224.0.0.251'); if (++n === 5) { clearInterval(t); setTimeout(() => process.exit(0), 50); } }, 50);
      });`], { timeoutMs: 5_000 });
    for (const listener of listeners) {
      const [, got] = await listener.waitForLog(/^got (.*)$/m, 5_000);
      expect(JSON.parse(got as string)).toEqual({ from: h1.address, text: 'cistern lab hello' });
    }
  });

  describe('media stand-ins answer as the real apps do', () => {
    const auth = `MediaBrowser Client="cistern", Device="lab", DeviceId="1", Version="1", Token="KEY"`;

    it('Jellyfin 8096: /health, /System/Info/Public, and /System/Info only with a token', async () => {
      const health = await h1.http(h2.url('jellyfin', '/health'));
      expect([health.status, health.headers['content-type'], health.body]).toEqual([200, 'text/plain', 'Healthy']);
      expect(health.headers['cache-control']).toBe('no-store, no-cache');
      const open = await h1.http(h2.url('jellyfin', '/System/Info/Public'));
      expect(open.status).toBe(200);
      expect(json(open)).toMatchObject({ ServerName: 'h2', Version: MEDIA_APPS.jellyfin.version, ProductName: 'Jellyfin Server' });
      expect((await h1.http(h2.url('jellyfin', '/System/Info'))).status).toBe(401);
      expect((await h1.http(h2.url('jellyfin', '/System/Info'), { headers: { Authorization: auth.replace('KEY', 'wrong') } })).status).toBe(401);
      const info = await h1.http(h2.url('jellyfin', '/System/Info'), { headers: { Authorization: auth.replace('KEY', key) } });
      expect([info.status, info.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
      expect(json(info)).toMatchObject({ ServerName: 'h2', Version: MEDIA_APPS.jellyfin.version });
      expect((await h1.http(h2.url('jellyfin', '/System/Info'), { headers: { 'X-Emby-Token': key } })).status).toBe(200);
    });

    it.each([
      ['sonarr', 'v3', 'Sonarr'],
      ['radarr', 'v3', 'Radarr'],
      ['prowlarr', 'v1', 'Prowlarr'],
    ] as const)('%s: /ping and /api/%s/system/status with X-Api-Key', async (app, api, appName) => {
      const ping = await h1.http(h2.url(app, '/ping'));
      expect([ping.status, ping.headers['content-type'], ping.body]).toEqual([200, 'application/json; charset=utf-8', '{\n  "status": "OK"\n}']);
      const status = `/api/${api}/system/status`;
      const refused = await h1.http(h2.url(app, status));
      expect([refused.status, refused.body]).toEqual([401, '']);
      expect((await h1.http(h2.url(app, status), { headers: { 'X-Api-Key': 'wrong' } })).status).toBe(401);
      for (const headers of [{ 'X-Api-Key': key }, { Authorization: `Bearer ${key}` }] as Array<Record<string, string>>) {
        const ok = await h1.http(h2.url(app, status), { headers });
        expect(ok.status).toBe(200);
        expect(json(ok)).toMatchObject({ appName, version: MEDIA_APPS[app].version });
      }
      expect((await h1.http(h2.url(app, `${status}?apikey=${key}`))).status).toBe(200);
    });

    it('Bazarr 6767: /api/system/ping, and /api/system/status with X-API-KEY', async () => {
      const ping = await h1.http(h2.url('bazarr', '/api/system/ping'));
      expect([ping.status, ping.headers['content-type'], ping.body]).toEqual([200, 'application/json', '{"status": "OK"}\n']);
      expect((await h1.http(h2.url('bazarr', '/api/system/status'))).status).toBe(401);
      const status = await h1.http(h2.url('bazarr', '/api/system/status'), { headers: { 'X-API-KEY': key } });
      expect(status.status).toBe(200);
      expect(json(status)).toMatchObject({ data: { bazarr_version: MEDIA_APPS.bazarr.version } });
    });

    it('SABnzbd 8080: mode=version needs no key, mode=fullstatus does', async () => {
      const version = await h1.http(h2.url('sabnzbd', '/api?mode=version'));
      expect([version.status, version.headers['content-type'], version.body]).toEqual([200, 'application/json;charset=UTF-8', '{"version": "4.3.3"}']);
      expect(JSON.parse(version.body)).toEqual({ version: '4.3.3' });
      expect(json(await h1.http(h2.url('sabnzbd', '/api?mode=fullstatus')))).toEqual({ status: false, error: 'API Key Required' });
      expect(json(await h1.http(h2.url('sabnzbd', '/api?mode=fullstatus&apikey=wrong')))).toEqual({ status: false, error: 'API Key Incorrect' });
      const full = json(await h1.http(h2.url('sabnzbd', `/api?mode=fullstatus&apikey=${key}`)));
      expect(full).toMatchObject({ status: { localipv4: h2.address } });
    });

    it('fail: 503 Unhealthy from Jellyfin, 500 {"status": "Error"} from the *arr apps, 500 from Bazarr and SABnzbd; degraded: Jellyfin 200 Degraded', async () => {
      try {
        for (const app of ['jellyfin', 'sonarr', 'radarr', 'prowlarr', 'bazarr', 'sabnzbd'] as const) h2.setMedia(app, { health: 'fail' });
        const jellyfin = await h1.http(h2.url('jellyfin', '/health'));
        expect([jellyfin.status, jellyfin.body]).toEqual([503, 'Unhealthy']);
        for (const app of ['sonarr', 'radarr', 'prowlarr'] as const) {
          const ping = await h1.http(h2.url(app, '/ping'));
          expect([ping.status, ping.body]).toEqual([500, '{\n  "status": "Error"\n}']);
        }
        expect((await h1.http(h2.url('bazarr', '/api/system/ping'))).status).toBe(500);
        expect((await h1.http(h2.url('sabnzbd', '/api?mode=version'))).status).toBe(500);
        h2.setMedia('jellyfin', { health: 'degraded' });
        const degraded = await h1.http(h2.url('jellyfin', '/health'));
        expect([degraded.status, degraded.body]).toEqual([200, 'Degraded']);
      } finally {
        for (const app of ['jellyfin', 'sonarr', 'radarr', 'prowlarr', 'bazarr', 'sabnzbd'] as const) h2.setMedia(app, { health: 'ok' });
      }
      expect((await h1.http(h2.url('sonarr', '/ping'))).status).toBe(200);
    });

    it('hang: the connection is accepted and never answered; slow: answers after the delay', async () => {
      try {
        h2.setMedia('sonarr', { health: 'hang' });
        expect(await h1.tcp(h2.address, MEDIA_APPS.sonarr.port)).toMatchObject({ connected: true });
        const hung = await h1.http(h2.url('sonarr', '/ping'), { timeoutMs: 1_000 });
        expect(hung.error).toBe('timeout');
        expect(hung.ms).toBeGreaterThanOrEqual(950);

        h2.setMedia('radarr', { delayMs: 700 });
        const slow = await h1.http(h2.url('radarr', '/ping'), { timeoutMs: 3_000 });
        expect(slow.status).toBe(200);
        expect(slow.ms).toBeGreaterThanOrEqual(650);
        expect((await h1.http(h2.url('radarr', '/ping'), { timeoutMs: 300 })).error).toBe('timeout');
      } finally {
        h2.setMedia('sonarr', { health: 'ok' });
        h2.setMedia('radarr', { health: 'ok' });
      }
      const back = await h1.http(h2.url('radarr', '/ping'));
      expect(back.status).toBe(200);
      expect(back.ms).toBeLessThan(600);
      expect((await h1.http(h2.url('sonarr', '/ping'))).status).toBe(200);
    });
  });

  it('runs the real transmission-daemon: 409 with X-Transmission-Session-Id from another host, then session-get with it', async () => {
    const rpc = `http://${h2.address}:${TRANSMISSION_RPC_PORT}/transmission/rpc`;
    const probe = await h3.http(rpc, { method: 'POST' });
    expect(probe.status).toBe(409);
    const session = probe.headers['x-transmission-session-id'];
    expect(session).toMatch(/^\w{20,}$/);
    const answer = await h3.http(rpc, { method: 'POST', headers: { 'X-Transmission-Session-Id': session as string }, body: '{"method":"session-get","arguments":{"fields":["version","rpc-version"]}}' });
    expect(answer.status).toBe(200);
    expect(json(answer)).toMatchObject({ result: 'success', arguments: { version: expect.stringMatching(/^3\.00/) } });
  });

  it('runs a real sshd per host whose banner another host reads', async () => {
    const banner = await h1.tcp(h3.address, 22, { readLine: true });
    expect(banner.firstLine).toMatch(new RegExp(`^SSH-2\\.0-${sshdVersion().replace('.', '\\.')}`));
  });

  it('cut makes a host unreachable both ways, restore brings it back', async () => {
    await lab.cut(h2);
    try {
      expect(await ip('-n', h2.namespace, '-o', 'link', 'show', 'eth0')).toMatch(/NO-CARRIER/);
      expect((await h1.tcp(h2.address, MEDIA_APPS.jellyfin.port, { timeoutMs: 1_000 })).connected).toBe(false);
      expect((await h2.tcp(h3.address, 22, { timeoutMs: 1_000 })).connected).toBe(false);
    } finally {
      await lab.restore(h2);
    }
    await waitUntil('h2 reachable again after restore', async () => (await h1.tcp(h2.address, MEDIA_APPS.jellyfin.port, { timeoutMs: 1_000 })).connected, { timeoutMs: 8_000 });
  });

  it('freeze stops a process (connections still accepted, nothing answered) and thaw resumes it', async () => {
    await lab.freeze(h2, 'jellyfin');
    try {
      expect(processState(h2.process('jellyfin').pid)).toBe('T');
      expect((await h1.http(h2.url('jellyfin', '/health'), { timeoutMs: 800 })).error).toBe('timeout');
    } finally {
      await lab.thaw(h2, 'jellyfin');
    }
    expect((await h1.http(h2.url('jellyfin', '/health'))).body).toBe('Healthy');
  });

  it('kill makes a service refuse connections; startService brings it back', async () => {
    const killed = h2.process('prowlarr');
    await lab.kill(h2, 'prowlarr');
    expect(killed.running).toBe(false);
    expect(await h1.tcp(h2.address, MEDIA_APPS.prowlarr.port)).toMatchObject({ connected: false, error: 'ECONNREFUSED' });
    const again = await lab.startService(h2, 'prowlarr');
    expect(again.pid).not.toBe(killed.pid);
    expect(h2.process('prowlarr')).toBe(again);
    expect((await h1.http(h2.url('prowlarr', '/ping'))).status).toBe(200);
  });

  it('netem adds delay where the kernel has it, and fails clearly where it does not', async () => {
    const outcome = await lab.netem(h2, { delayMs: 150 }).then(() => 'applied' as const, (error: Error) => error);
    if (outcome === 'applied') {
      try {
        const slow = await h1.http(h2.url('jellyfin', '/health'));
        expect(slow.ms).toBeGreaterThanOrEqual(290); // SYN and request each cross the link both ways
      } finally {
        await lab.netem(h2, null);
      }
    } else {
      expect(kernelHasNetem()).not.toBe(true);
      expect(outcome.message).toMatch(/^lab\.netem is not available on this machine: /);
      expect(await ip('-n', h2.namespace, '-o', 'link', 'show', 'eth0')).not.toMatch(/netem/);
    }
    if (kernelHasNetem() === false) expect(outcome).not.toBe('applied');
  });

  it('runs a Cistern controller on h1 whose agents on h2 and h3 registered over the lab, and sees a cut host go silent and come back', async () => {
    const status = async () => {
      const result = await h1.cistern(['status', '--json']);
      if (result.code !== 0) throw new Error(`cistern status failed: ${result.stderr}`);
      return JSON.parse(result.stdout) as ServerView[];
    };
    const servers = await status();
    expect(servers.map((s) => [s.name, s.connected, s.address]).sort()).toEqual([['h2', true, h2.address], ['h3', true, h3.address]]);
    await lab.cut(h3);
    try {
      await waitUntil('h3 no longer healthy', async () => (await status()).find((s) => s.name === 'h3' && s.health !== 'healthy'), { timeoutMs: 8_000 });
    } finally {
      await lab.restore(h3);
    }
    await waitUntil('h3 healthy and connected again', async () => (await status()).find((s) => s.name === 'h3' && s.health === 'healthy' && s.connected), { timeoutMs: 15_000 });
  });

  it('killHost kills every process of a host and removes its namespace and cable; the others carry on', async () => {
    const pids = [...h3.processes.values()].map((p) => p.pid);
    await lab.killHost(h3);
    expect(await listNamespaces()).not.toContain(h3.namespace);
    expect(pids.filter(alive)).toEqual([]);
    expect(await ip('-n', lab.switchNamespace, '-o', 'link', 'show')).not.toMatch(/\bh3@/);
    expect((await h1.tcp(h3.address, 22, { timeoutMs: 800 })).connected).toBe(false);
    expect(() => h3.exec('true', [])).toThrow(/host h3 of lab .* was killed/);
    expect((await h1.http(h2.url('jellyfin', '/health'))).status).toBe(200);
  });

  it('tears down completely: no namespace, interface, process or folder is left, and later calls say why', async () => {
    const pids = lab.hosts.flatMap((h) => [...h.processes.values()].map((p) => p.pid));
    expect(pids.length).toBeGreaterThan(10);
    await lab.destroy();
    expect((await listNamespaces()).filter((n) => n.startsWith(`${NAMESPACE_PREFIX}${lab.name}-`))).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(await rootLinks()).toEqual(linksBefore);
    expect(existsSync(lab.dir)).toBe(false);
    await expect(lab.cut(h1)).rejects.toThrow(/was torn down \(destroyed\)/);
  });
});

describe('lab life cycle', () => {
  const minimal = { sshd: false, transmission: false, media: ['jellyfin'] as const };

  it('creates, destroys and creates again under the same name, starting clean', async () => {
    const name = `again-${process.pid}`;
    const first = await createLab({ hosts: 2, name, services: minimal });
    const firstPid = first.hosts[1]?.process('jellyfin').pid as number;
    await first.destroy();
    const second = await withLab({ hosts: 2, name, services: minimal }, async (lab) => {
      expect(lab.namespaces()).toEqual(first.namespaces());
      expect(alive(firstPid)).toBe(false);
      const [a, b] = lab.hosts as [LabHost, LabHost];
      expect((await a.http(b.url('jellyfin', '/health'))).body).toBe('Healthy');
      return lab;
    });
    expect(existsSync(second.dir)).toBe(false);
  });

  it('refuses what it cannot build, with the reason, and leaves nothing behind', async () => {
    await expect(createLab({ hosts: 0 })).rejects.toThrow(/hosts must be an integer from 1 to 50/);
    await expect(createLab({ hosts: 1, name: 'Bad Name' })).rejects.toThrow(/lab name "Bad Name" must be/);
    const lab = await createLab({ hosts: 1, services: { sshd: false, transmission: false, media: false } });
    try {
      await expect(createLab({ hosts: 1, name: lab.name })).rejects.toThrow(new RegExp(`lab ${lab.name} already exists, owned by running process ${process.pid}`));
    } finally {
      await lab.destroy();
    }
  });

  it('tears a lab down when its time limit runs out, failing the scenario that outlived it', async () => {
    let lab: Lab | undefined;
    let pid = 0;
    const scenario = withLab({ hosts: 1, timeLimitMs: 1_500, services: minimal }, async (started) => {
      lab = started;
      pid = started.hosts[0]?.process('jellyfin').pid ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 4_000));
    });
    await expect(scenario).rejects.toThrow(/time limit of 1500 ms ran out/);
    if (!lab) throw new Error('the scenario never started');
    const expired = lab;
    expect((await listNamespaces()).filter((n) => expired.namespaces().includes(n))).toEqual([]);
    expect(existsSync(expired.dir)).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(() => expired.hosts[0]?.setMedia('jellyfin', { health: 'fail' })).toThrow(/time limit of 1500 ms ran out/);
  });

  describe('a run that ends abruptly', () => {
    const children: ChildProcess[] = [];
    afterAll(() => {
      for (const child of children) child.kill('SIGKILL');
    });

    /** A separate process that builds a lab and waits; resolves with the lab's name and the pids of its processes. */
    async function labInChild(name: string): Promise<{ child: ChildProcess; pids: number[]; exited: Promise<[number | null, NodeJS.Signals | null]> }> {
      const script = `
        const { createLab } = await import(process.argv[1]);
        const lab = await createLab(JSON.parse(process.argv[2]));
        console.log('ready ' + lab.hosts.flatMap((h) => [...h.processes.values()].map((p) => p.pid)).join(','));
        setInterval(() => {}, 1000);`;
      const options = { hosts: 1, name, timeLimitMs: 30_000, services: minimal };
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, fileURLToPath(new URL('./index.ts', import.meta.url)), JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (c: string) => { out += c; });
      child.stderr?.setEncoding('utf8').on('data', (c: string) => { out += c; });
      const pids = await waitUntil(`lab ${name} ready in its own process`, async () => {
        const match = /^ready ([\d,]+)$/m.exec(out);
        if (!match && child.exitCode !== null) throw new Error(`exited early:\n${out}`);
        return match?.[1]?.split(',').map(Number);
      }, { timeoutMs: 20_000, intervalMs: 50, describe: () => out });
      return { child, pids, exited };
    }

    const leftovers = async (name: string) => ({
      namespaces: (await listNamespaces()).filter((n) => n.startsWith(`${NAMESPACE_PREFIX}${name}-`)),
      folder: existsSync(`${LAB_ROOT}/${name}`),
    });

    it.each(['SIGINT', 'SIGTERM'] as const)('tears its lab down on %s', async (signal) => {
      const name = `sig-${signal.toLowerCase()}-${process.pid}`;
      const { child, pids, exited } = await labInChild(name);
      child.kill(signal);
      expect(await exited).toEqual([null, signal]);
      expect(await leftovers(name)).toEqual({ namespaces: [], folder: false });
      expect(pids.filter(alive)).toEqual([]);
    });

    it('leaves leftovers when SIGKILLed, which cleanupStale recognises by name and removes', async () => {
      const name = `killed-${process.pid}`;
      const { child, pids, exited } = await labInChild(name);
      child.kill('SIGKILL');
      await exited;
      expect((await leftovers(name)).namespaces.sort()).toEqual([`${NAMESPACE_PREFIX}${name}-h1`, `${NAMESPACE_PREFIX}${name}-sw`]);
      expect(pids.filter(alive)).toEqual(pids); // its stand-in outlived it
      expect(await cleanupStale()).toContain(name);
      expect(await leftovers(name)).toEqual({ namespaces: [], folder: false });
      expect(pids.filter(alive)).toEqual([]);
    });
  });
});
