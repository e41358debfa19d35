/**
 * Avahi interop in the fleet lab: a stock Linux mDNS stack (avahi-daemon 0.8, as Debian ships
 * it) sees the `_cistern._tcp` records that bonjour-service sends, TXT and all, and
 * bonjour-service sees what Avahi publishes.
 *
 * Needs root, iproute2, avahi-daemon, avahi-utils and dbus-daemon (`bash
 * scripts/ensure-test-deps.sh`). A machine without them fails this file saying what to install;
 * it never skips.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertAvahiPrerequisites, avahiPublish, parseAvahiBrowse, type Avahi, type AvahiService } from './avahi.js';
import { createLab, processState, type Lab, type LabHost } from './index.js';
import type { LabProcess } from './processes.js';

const BONJOUR = createRequire(import.meta.url).resolve('bonjour-service');

/** Publishes one service with bonjour-service, as a Cistern agent will: argv = module, ServiceConfig JSON. */
const PUBLISHER = `
const { Bonjour } = require(process.argv[2]);
const config = JSON.parse(process.argv[3]);
const bonjour = new Bonjour({}, (error) => { console.log('bonjour error: ' + error); process.exit(1); });
const service = bonjour.publish(config);
service.on('up', () => console.log('published ' + service.fqdn));
`;

/** Browses one type with bonjour-service and prints each service found as a JSON line. */
const BROWSER = `
const { Bonjour } = require(process.argv[2]);
const bonjour = new Bonjour({}, (error) => { console.log('bonjour error: ' + error); process.exit(1); });
const browser = bonjour.find({ type: process.argv[3] }, (s) => {
  console.log('found ' + JSON.stringify({ name: s.name, host: s.host, port: s.port, addresses: s.addresses, txt: s.txt }));
});
// One query at start is all bonjour-service sends; ask again in case that one went unanswered.
let asked = 1;
const again = setInterval(() => { if (++asked > 10) clearInterval(again); else browser.update(); }, 1000);
`;

/**
 * Advertises through Cistern's own mDNS module (the built one, as agents run it): argv = module
 * URL, JSON { options, ad, next }. SIGUSR2 announces the `next` TXT values with `update`.
 */
const ADVERTISER = `
const { createMdns } = await import(process.argv[2]);
const { options, ad, next } = JSON.parse(process.argv[3]);
const mdns = createMdns({ ...options, onError: (error) => { console.log('mdns error: ' + error.message); process.exit(1); } });
const advertisement = mdns.advertise(ad);
process.on('SIGUSR2', () => { advertisement.update(next).then(() => console.log('updated')); });
process.on('SIGTERM', () => { mdns.close().then(() => process.exit(0)); });
console.log('advertising');
`;
/**
 * Prints each mDNS record it hears whose name contains argv[4], as a JSON line: argv = dns-packet
 * path, the interface address, the text.
 */
const SNIFFER = `
const packet = require(process.argv[2]);
const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (m) => {
  let p;
  try { p = packet.decode(m); } catch { return; }
  for (const r of [...(p.answers || []), ...(p.additionals || [])]) {
    if (!r.name.includes(process.argv[4])) continue;
    const txt = r.type === 'TXT' ? [].concat(r.data).map(String) : [];
    console.log(JSON.stringify({ name: r.name, type: r.type, ttl: r.ttl, flush: !!r.flush, txt }));
  }
});
s.bind(5353, () => { s.addMembership('224.0.0.251', process.argv[3]); console.log('listening'); });
`;
interface SniffedRecord { name: string; type: string; ttl: number; flush: boolean; txt: string[] }
const DNS_PACKET = createRequire(createRequire(BONJOUR).resolve('multicast-dns')).resolve('dns-packet');
const MDNS_MODULE = pathToFileURL(fileURLToPath(new URL('../../dist/discovery/mdns.js', import.meta.url))).href;

const fingerprint = (host: string) => `sha256:${Buffer.from(host.padEnd(32, '.')).toString('hex')}`;

function agentTxt(host: string): Record<string, string> {
  return { id: `agent-${host}`, v: '0.1.0', profile: 'generic', fp: fingerprint(host) };
}

/** Polls until `probe` returns something, at most `attempts` times and `timeoutMs` in all. */
async function poll<T>(what: string, probe: () => Promise<T | undefined>, limits: { attempts: number; timeoutMs: number; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + limits.timeoutMs;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (attempt >= limits.attempts || Date.now() >= deadline) throw new Error(`gave up waiting for ${what} after ${attempt} attempts${last ? `; last error: ${last}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, limits.intervalMs ?? 200));
  }
}

/** Pids of running processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

describe('parseAvahiBrowse', () => {
  it('unescapes names and TXT strings as avahi-browse 0.8 prints them', () => {
    // Real output for: avahi-publish -s 'we;ird. "name" é\x' _cistern._tcp 7443 'q="x"' 'b=a\b' 's=a;b' 'u=é' $'nl=a\nb' 'e=' flag '=nokey'
    const stdout = [
      '+;eth0;IPv4;we\\059ird\\.\\032\\034name\\034\\032\\195\\169\\\\x;_cistern._tcp;local',
      '=;eth0;IPv4;we\\059ird\\.\\032\\034name\\034\\032\\195\\169\\\\x;_cistern._tcp;local;h1.local;10.213.0.11;7443;"=nokey" "flag" "e=" "nl=a\\010b" "u=\\195\\169" "s=a;b" "b=a\\\\b" "q=\\"x\\""',
      '',
    ].join('\n');
    expect(parseAvahiBrowse(stdout)).toEqual([{
      interface: 'eth0', protocol: 'IPv4', name: 'we;ird. "name" é\\x', type: '_cistern._tcp', domain: 'local', host: 'h1.local', address: '10.213.0.11', port: 7443,
      txt: { q: '"x"', b: 'a\\b', s: 'a;b', u: 'é', nl: 'a\nb', e: '', flag: '' },
    }]);
  });

  it('keeps the first of a repeated key, in the order the strings were sent', () => {
    // avahi-browse prints the TXT strings last first: k=1 was sent first.
    const [service] = parseAvahiBrowse('=;eth0;IPv4;x;_t._tcp;local;h.local;10.0.0.1;1;"k=2" "k=1"\n');
    expect(service?.txt).toEqual({ k: '1' });
  });
});

describe('Avahi in a lab of three hosts', () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let h3: LabHost;
  let avahi: Avahi;
  const started: LabProcess[] = [];

  beforeAll(async () => {
    assertAvahiPrerequisites();
    lab = await createLab({ hosts: 3, services: { sshd: false, transmission: false, media: false }, timeLimitMs: 40_000 });
    [h1, h2, h3] = lab.hosts as [LabHost, LabHost, LabHost];
    writeFileSync(join(lab.dir, 'publish.cjs'), PUBLISHER);
    writeFileSync(join(lab.dir, 'browse.cjs'), BROWSER);
    avahi = await h1.startAvahi();
    started.push(avahi.dbus, avahi.daemon);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('runs dbus-daemon and avahi-daemon inside h1, with avahi-daemon\'s /run in h1\'s folder', async () => {
    await lab.verifyProcesses();
    expect(avahi.hostName).toBe('h1.local');
    expect(avahi.busAddress).toBe(`unix:path=${join(h1.dir, 'avahi', 'bus')}`);
    expect(readFileSync(join(h1.dir, 'avahi', 'run', 'avahi-daemon', 'pid'), 'utf8').trim()).toBe(String(avahi.daemon.pid));
  });

  it('avahi-browse on h1 lists the agents bonjour-service publishes on h2 and h3, with address, port and exact TXT', async () => {
    const agents = [h2, h3].map((host) => ({
      host,
      config: { name: `Cistern agent on ${host.name}`, type: 'cistern', port: 7400 + host.index, host: `${host.name}.local`, txt: agentTxt(host.name) },
    }));
    const publishers = agents.map(({ host, config }) => host.spawn('bonjour-publish', process.execPath, [join(lab.dir, 'publish.cjs'), BONJOUR, JSON.stringify(config)]));
    started.push(...publishers);
    await Promise.all(publishers.map((p) => p.waitForLog(/^published /m, 5_000)));
    const expected: AvahiService[] = agents.map(({ host, config }) => ({
      interface: 'eth0', protocol: 'IPv4', name: config.name, type: '_cistern._tcp', domain: 'local',
      host: config.host, address: host.address, port: config.port, txt: config.txt,
    }));
    let last: AvahiService[] = [];
    const seen = await poll('h1\'s Avahi to resolve both agents', async () => {
      last = await h1.avahiBrowse('_cistern._tcp');
      return last.length >= expected.length ? last : undefined;
    }, { attempts: 5, timeoutMs: 10_000 });
    expect([...seen].sort((a, b) => a.name.localeCompare(b.name)), JSON.stringify(last)).toEqual(expected);
  });

  it('a bonjour-service browser on h2 sees a service Avahi publishes on h1', async () => {
    const service = { name: 'Cistern controller on h1', type: '_cistern._tcp', port: 7443, txt: { id: 'controller-h1', v: '0.1.0', role: 'controller' } };
    started.push(await avahiPublish(h1, avahi, service));
    const browser = h2.spawn('bonjour-browse', process.execPath, [join(lab.dir, 'browse.cjs'), BONJOUR, 'cistern']);
    started.push(browser);
    const line = await browser.waitForLog(/^found (\{.*"name":"Cistern controller on h1".*\})$/m, 8_000);
    expect(JSON.parse(line[1] as string)).toEqual({ name: service.name, host: 'h1.local', port: 7443, addresses: ['10.213.0.11'], txt: service.txt });
  });

  it('an agent\'s TXT update (registered: its id added) goes out as a cache-flush TXT with no goodbye, and Avahi follows it', async () => {
    const name = 'Cistern agent on h2 (update)';
    const before = { name: 'h2', v: '0.1.0', profile: 'generic', fp: fingerprint('h2') };
    const after = { id: 'agent-h2-registered', ...before };
    writeFileSync(join(lab.dir, 'advertise.mjs'), ADVERTISER);
    writeFileSync(join(lab.dir, 'sniff.cjs'), SNIFFER);
    // h3 runs no Avahi, so a plain socket on 5353 there hears every record h2 sends.
    const sniffer = h3.spawn('mdns-sniffer', process.execPath, [join(lab.dir, 'sniff.cjs'), DNS_PACKET, h3.address, 'update']);
    const advertiser = h2.spawn('cistern-advertise', process.execPath, [join(lab.dir, 'advertise.mjs'), MDNS_MODULE, JSON.stringify({
      options: { interface: h2.address },
      ad: { type: 'cistern', name, port: 7499, host: 'cistern-update-test.local', txt: before },
      next: after,
    })]);
    try {
      await sniffer.waitForLog(/^listening$/m, 5_000);
      await advertiser.waitForLog(/^advertising$/m, 5_000);
      const seenBefore = await poll('Avahi on h1 to resolve the advertisement', async () => {
        return (await h1.avahiBrowse('_cistern._tcp')).find((s) => s.name === name);
      }, { attempts: 20, timeoutMs: 10_000, intervalMs: 300 });
      expect(seenBefore.txt).toEqual(before);

      const updateSent = Date.now();
      advertiser.signal('SIGUSR2');
      await advertiser.waitForLog(/^updated$/m, 5_000);
      const seenAfter = await poll('Avahi on h1 to show the new TXT', async () => {
        const service = (await h1.avahiBrowse('_cistern._tcp')).find((s) => s.name === name);
        return service?.txt['id'] === after.id ? service : undefined;
      }, { attempts: 20, timeoutMs: 5_000, intervalMs: 100 });
      console.log(`TXT update seen by Avahi ${Date.now() - updateSent} ms after update() was called`);
      expect(seenAfter.txt).toEqual(after);
      // The repeat announcement goes 1 s after the first.
      await new Promise((resolve) => setTimeout(resolve, 1_500));

      const records = sniffer.log().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as SniffedRecord);
      const updates = records.filter((r) => r.type === 'TXT' && r.txt.includes(`id=${after.id}`));
      // Announced with cache-flush (RFC 6762 §8.4), twice; answers to Avahi's queries may follow without it.
      expect(updates[0], sniffer.log()).toMatchObject({ flush: true });
      expect(updates.filter((r) => r.flush).length, sniffer.log()).toBeGreaterThanOrEqual(2);
      expect(records.filter((r) => r.ttl === 0), 'no goodbye: browsers must not see the service leave').toEqual([]);
    } finally {
      await Promise.all([advertiser.kill(), sniffer.kill()]);
    }
  });

  it('leaves no avahi-daemon, dbus-daemon or publisher behind when the lab is torn down', async () => {
    expect(started.map((p) => p.name).sort()).toEqual(['avahi', 'avahi-dbus', 'avahi-publish', 'bonjour-browse', 'bonjour-publish', 'bonjour-publish']);
    for (const p of started) expect(p.running, p.describe()).toBe(true);
    const dir = lab.dir;
    await lab.destroy();
    for (const p of started) expect(processState(p.pid), `${p.name} on ${p.host} (pid ${p.pid})`).toBeUndefined();
    expect(processesMentioning(dir)).toEqual([]);
  });
});
