/**
 * `cistern inventory validate --connectivity` against a real OpenSSH server (Debian's
 * openssh-server), end to end through the built CLI.
 *
 * Everything, sshd and each CLI run, happens inside a fresh network namespace that has only
 * loopback, so no packet can leave the machine: not the TCP probes, and not the DNS query for
 * the unresolvable server, which the machine's resolver would otherwise receive. The first test
 * checks that isolation rather than assuming it.
 *
 * Needs: root; openssh-server, openssh-client, iproute2 (`bash scripts/ensure-test-deps.sh`
 * installs them); and a built CLI — `npm test` builds first, by hand run `npm run build`. A
 * missing piece fails the suite with a message saying which; it never skips.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/inventory/analyze.js';
import { tempDir } from '../src/testing/tmp.js';
import { BIN, assertBuilt } from './support/cistern.js';
import { createNetworkNamespace, type NetworkNamespace } from './support/netns.js';
import type { RunResult } from './support/process.js';
import { assertSshdPrerequisites, sshdVersion, startSshd, type Sshd } from './support/sshd.js';


/** Generous against a loaded CI machine, and what "fails fast" is measured against. */
const CHECK_TIMEOUT_MS = 5_000;

// Any port will do: the namespace is new, so nothing else listens in it, and the port next to
// sshd's is certainly closed. The closed server sits on 127.0.0.2 (loopback too: lo holds all of
// 127.0.0.0/8) because the inventory rules forbid two servers with the same address.
const SSHD_PORT = 20_000 + Math.floor(Math.random() * 40_000);
const CLOSED_PORT = SSHD_PORT + 1;

/** Comments on every level, which --record must keep. */
const INVENTORY = `# Connectivity test fleet (test/connectivity.test.ts).
servers:
  # A real OpenSSH server in the test's network namespace.
  good:
    hostname: good.invalid   # never used: address wins
    address: 127.0.0.1
    tags: [sshd]
    ssh:
      port: ${SSHD_PORT}  # the test's sshd
  # Loopback, but nothing listens on this port.
  closed:
    hostname: 127.0.0.2
    ssh:
      port: ${CLOSED_PORT}
  # .invalid never resolves (RFC 2606).
  lost:
    hostname: nowhere.invalid
    status:
      health: unknown  # a status block already there: last_check joins it
# The end.
`;

type CheckName = 'resolve' | 'tcp' | 'ssh_banner';
interface Check { ok: boolean; detail: string; ms?: number }
interface ConnectivityJson { name: string; address: string; port: number; at: string; ok: boolean; rtt_ms: number | null; checks: Record<CheckName, Check> }
interface ValidateJson { ok: boolean; errors: number; connectivity: ConnectivityJson[] }

/** The nameservers in /etc/resolv.conf: what glibc would send the DNS query to. */
function resolvers(): string[] {
  const text = existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '';
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => (m[1] ?? '').replace(/%.*$/, '')).filter((a) => isIP(a) !== 0);
}

const isLoopback = (ip: string) => ip === '::1' || ip.startsWith('127.');

function writeInventory(): string {
  const file = join(tempDir('cistern-connectivity-'), 'inventory.yaml');
  writeFileSync(file, INVENTORY);
  return file;
}

function byName(results: readonly ConnectivityJson[]): Record<string, ConnectivityJson> {
  return Object.fromEntries(results.map((r) => [r.name, r]));
}

function parseJson(result: RunResult): ValidateJson {
  try {
    return JSON.parse(result.stdout) as ValidateJson;
  } catch {
    throw new Error(`cistern printed no JSON (exit ${result.code}):\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

describe('inventory validate --connectivity against a real OpenSSH server', () => {
  let ns: NetworkNamespace | undefined;
  let sshd: Sshd | undefined;

  beforeAll(async () => {
    assertBuilt();
    assertSshdPrerequisites();
    ns = await createNetworkNamespace();
    sshd = await startSshd(ns, SSHD_PORT);
  });

  afterAll(async () => {
    try {
      await sshd?.stop();
    } finally {
      await ns?.remove();
    }
  });

  /** The built CLI, run inside the namespace. */
  function cistern(...args: string[]): Promise<RunResult> {
    if (!ns) throw new Error('the network namespace was not created (see beforeAll)');
    return ns.exec(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 30_000 });
  }

  const connectivity = (file: string, ...more: string[]) =>
    cistern('inventory', 'validate', '--connectivity', '--timeout', `${CHECK_TIMEOUT_MS}ms`, '--file', file, ...more);

  it('runs in a namespace where loopback is the only way out, so the resolver is unreachable', async () => {
    if (!ns) throw new Error('no namespace');
    expect(await ns.interfaces()).toEqual(['lo']);
    // Each resolver off loopback (here 10.255.255.53) has no route from inside: a query to it
    // cannot even be sent. A resolver on loopback (systemd-resolved's 127.0.0.53, say) would be
    // asked inside the namespace, where nothing answers: also no traffic off the machine.
    for (const ip of resolvers().filter((a) => !isLoopback(a))) {
      const route = await ns.exec('ip', ['route', 'get', ip]);
      expect(route.code, `route to resolver ${ip}: ${route.stdout}`).not.toBe(0);
      expect(route.stderr).toMatch(/unreachable/i);
    }
  });

  it('checks each server and reports all three outcomes as JSON, exiting 1', async () => {
    if (!ns || !sshd) throw new Error('no namespace or sshd');
    const file = writeInventory();
    const before = await ns.counters();
    const logMark = sshd.log().length;
    const result = await connectivity(file, '--json', '--concurrency', '2');
    const after = await ns.counters();
    const json = parseJson(result);

    expect(result.code, result.stderr).toBe(1);
    expect(json.ok).toBe(false);
    expect(json.errors).toBe(0); // the file is valid: exit 1 is the connectivity failures alone
    const servers = byName(json.connectivity);
    expect(Object.keys(servers).sort()).toEqual(['closed', 'good', 'lost']);

    const { good, closed, lost } = servers;
    expect(good).toMatchObject({ address: '127.0.0.1', port: SSHD_PORT, ok: true });
    expect(good?.checks.resolve.ok).toBe(true);
    expect(good?.checks.tcp.ok).toBe(true);
    expect(good?.checks.ssh_banner.ok).toBe(true);
    expect(good?.checks.ssh_banner.detail).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(good?.checks.ssh_banner.detail).toContain(sshdVersion());
    expect(good?.rtt_ms).toBeTypeOf('number');
    expect(good?.rtt_ms).toBeGreaterThanOrEqual(0);
    expect(good?.rtt_ms).toBeLessThan(CHECK_TIMEOUT_MS);
    expect(Date.parse(good?.at ?? '')).not.toBeNaN();

    expect(closed).toMatchObject({ address: '127.0.0.2', port: CLOSED_PORT, ok: false, rtt_ms: null });
    expect(closed?.checks.resolve.ok).toBe(true);
    expect(closed?.checks.tcp).toMatchObject({ ok: false, detail: `ECONNREFUSED: cannot connect to 127.0.0.2:${CLOSED_PORT}` });
    expect(closed?.checks.ssh_banner).toMatchObject({ ok: false, detail: 'skipped: no TCP connection' });

    expect(lost).toMatchObject({ address: 'nowhere.invalid', port: 22, ok: false, rtt_ms: null });
    expect(lost?.checks.resolve.ok).toBe(false);
    expect(lost?.checks.resolve.detail).toMatch(/cannot resolve nowhere\.invalid$/);
    expect(lost?.checks.tcp).toMatchObject({ ok: false, detail: 'skipped: name did not resolve' });
    expect(lost?.checks.ssh_banner.ok).toBe(false);

    // The name failed locally and at once, not by waiting for a resolver that never answers...
    expect(lost?.checks.resolve.ms).toBeLessThan(CHECK_TIMEOUT_MS / 5);
    expect(lost?.checks.resolve.detail).not.toMatch(/timed out/);
    // ...and no DNS query was sent: the namespace's counters show the resolver's attempts
    // dying for want of a route, and not one UDP datagram going out (the run uses no other UDP).
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    if (resolvers().some((ip) => !isLoopback(ip))) {
      expect(delta('Ip.OutNoRoutes'), 'DNS queries refused for want of a route').toBeGreaterThan(0);
      expect(delta('Udp.OutDatagrams'), 'UDP datagrams sent from inside the namespace').toBe(0);
    }
    // The banner came from the test's sshd, which logged the probe's connection.
    await sshd.waitForLog(/Connection closed by 127\.0\.0\.1 port \d+/, logMark);
  });

  it('exits 0 when --on selects only the reachable server', async () => {
    const result = await connectivity(writeInventory(), '--json', '--on', 'tag:sshd');
    const json = parseJson(result);
    expect(result.code, result.stderr).toBe(0);
    expect(json.ok).toBe(true);
    expect(json.connectivity.map((r) => r.name)).toEqual(['good']);
    expect(json.connectivity[0]?.checks.ssh_banner.detail).toMatch(/^SSH-2\.0-OpenSSH_/);
  });

  it('prints a table with a row per server', async () => {
    const result = await connectivity(writeInventory());
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.split('\n');
    const header = lines.findIndex((l) => /^SERVER\s+ADDRESS\s+RESOLVE\s+TCP\s+SSH\s+RTT$/.test(l));
    expect(header, result.stdout).toBeGreaterThanOrEqual(0);
    const rows = lines.slice(header + 1, header + 4);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['good', 'closed', 'lost']);
    expect(rows[0]).toMatch(new RegExp(`^good\\s+127\\.0\\.0\\.1:${SSHD_PORT}\\s+ok\\s+ok\\s+SSH-2\\.0-OpenSSH_.*\\s\\d+\\.\\d ms$`));
    expect(rows[1]).toContain('FAIL ECONNREFUSED');
    expect(rows[2]).toMatch(/^lost\s+nowhere\.invalid:22\s+FAIL .*cannot resolve nowhere\.invalid\s/);
    expect(result.stdout).toContain('2 of 3 servers failed a check');
  });

  it('--record writes status.last_check for each server and keeps every comment', async () => {
    const file = writeInventory();
    const result = await connectivity(file, '--json', '--record');
    expect(result.code, result.stderr).toBe(1);
    const reported = byName(parseJson(result).connectivity);

    const text = readFileSync(file, 'utf8');
    for (const comment of INVENTORY.match(/#.*$/gm) ?? []) expect(text).toContain(comment);
    expect(analyze(text, file).ok, 'the recorded file still validates').toBe(true);

    const servers = (parse(text) as { servers: Record<string, { status?: Record<string, unknown> }> }).servers;
    for (const name of ['good', 'closed', 'lost']) {
      const check = servers[name]?.status?.last_check as Record<string, unknown> | undefined;
      const r = reported[name];
      expect(check, `${name}: status.last_check`).toBeDefined();
      expect(check).toEqual({ at: r?.at, ok: r?.ok, rtt_ms: r?.rtt_ms, checks: r?.checks });
    }
    expect(servers.good?.status?.last_check).toMatchObject({ ok: true, rtt_ms: expect.any(Number) as unknown });
    expect(servers.lost?.status?.health, 'the status block already there kept its fields').toBe('unknown');
  });
});
