/**
 * The lab's wiring: one "switch" namespace holding a bridge, and one namespace per host joined
 * to it by a veth pair. Everything is named after the lab, so leftovers of a killed run are
 * recognisable by name (see `parseNamespace`) and nothing collides with another lab.
 *
 * Every veth is created with both ends already inside lab namespaces (`ip link add … netns A
 * type veth peer … netns B`): no lab interface ever exists in the root namespace, so no lab
 * address is ever reachable or routed from it. The lab range is only assigned to the hosts'
 * eth0, and hosts have no default route: a packet for anything outside the range fails at once
 * with "network unreachable" instead of leaving the machine.
 *
 * Always `ip netns exec` / `ip -n`, never `nsenter --net=/proc/PID/ns/net` (under gVisor that
 * nsenter silently joins the host namespace; see test/support/netns.ts). `verifyHost` checks
 * from inside that a host sees only its own two interfaces and addresses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk } from '../support/process.js';

/** Every name the lab gives a namespace starts with this. */
export const NAMESPACE_PREFIX = 'cistern-lab-';
/** A private range that exists only inside lab namespaces; each lab has its own bridge, so two labs may both use it. */
export const LAB_SUBNET = '10.213.0.0/24';
export const LAB_PREFIX_LENGTH = 24;
/** mDNS and every other IPv4 multicast group go out on eth0 (hosts have no default route to carry them). */
const MULTICAST_ROUTE = '224.0.0.0/4';
export const MAX_HOSTS = 50;

/** Lab names: short lowercase words joined by '-', so they fit in namespace names and cannot smuggle in flags or paths. */
export const LAB_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function hostName(index: number): string {
  return `h${index}`;
}

/** 10.213.0.11 for h1, 10.213.0.12 for h2, … */
export function hostAddress(index: number): string {
  return `10.213.0.${10 + index}`;
}

export function switchNamespace(lab: string): string {
  return `${NAMESPACE_PREFIX}${lab}-sw`;
}

export function hostNamespace(lab: string, host: string): string {
  return `${NAMESPACE_PREFIX}${lab}-${host}`;
}

/** The lab and role a namespace name belongs to, or undefined for a name the lab did not make. */
export function parseNamespace(name: string): { lab: string; role: string } | undefined {
  const match = /^cistern-lab-(.+)-(sw|h\d+)$/.exec(name);
  return match ? { lab: match[1] as string, role: match[2] as string } : undefined;
}

export function assertLabName(name: string): void {
  if (!LAB_NAME.test(name) || name.length > 24) {
    throw new Error(`lab name ${JSON.stringify(name)} must be 1 to 24 characters of a-z, 0-9 and single dashes`);
  }
}

/** Names of every network namespace on the machine. */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runOk('ip', ['netns', 'list'], { timeoutMs: 10_000 });
  return parseNamespaceList(stdout);
}

/** `ip netns list` prints "NAME" or "NAME (id: N)" per line. */
function parseNamespaceList(stdout: string): string[] {
  return stdout.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/** Runs a batch of `ip` commands in one namespace with one process. */
async function ipBatch(namespace: string, commands: readonly string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cistern-lab-ip-'));
  try {
    const file = join(dir, 'batch');
    writeFileSync(file, `${commands.join('\n')}\n`);
    await runOk('ip', ['-n', namespace, '-batch', file], { timeoutMs: 10_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WiredHost { name: string; namespace: string; address: string; port: string }

/**
 * Makes the switch namespace with its bridge and `count` host namespaces plugged into it.
 * On failure it removes what it made and rethrows.
 */
export async function wireLab(lab: string, count: number): Promise<{ switchNamespace: string; hosts: WiredHost[] }> {
  const sw = switchNamespace(lab);
  const hosts = Array.from({ length: count }, (_, i) => {
    const name = hostName(i + 1);
    return { name, namespace: hostNamespace(lab, name), address: hostAddress(i + 1), port: name };
  });
  const made: string[] = [];
  try {
    for (const namespace of [sw, ...hosts.map((h) => h.namespace)]) {
      await runOk('ip', ['netns', 'add', namespace], { timeoutMs: 10_000 });
      made.push(namespace);
    }
    // Snooping off: the bridge floods multicast to every port, so mDNS needs no querier.
    await ipBatch(sw, ['link set lo up', 'link add br0 type bridge mcast_snooping 0 stp_state 0', 'link set br0 up multicast on']);
    for (const host of hosts) {
      // Both ends are born inside lab namespaces: the root namespace never holds a lab interface.
      await runOk('ip', ['link', 'add', 'eth0', 'netns', host.namespace, 'type', 'veth', 'peer', 'name', host.port, 'netns', sw], { timeoutMs: 10_000 });
      await ipBatch(host.namespace, [
        'link set lo up',
        `addr add ${host.address}/${LAB_PREFIX_LENGTH} dev eth0`,
        'link set eth0 up multicast on',
        `route add ${MULTICAST_ROUTE} dev eth0`,
      ]);
    }
    await ipBatch(sw, hosts.flatMap((h) => [`link set ${h.port} master br0`, `link set ${h.port} up multicast on`]));
    return { switchNamespace: sw, hosts };
  } catch (error) {
    for (const namespace of made) await run('ip', ['netns', 'delete', namespace], { timeoutMs: 10_000 });
    throw error;
  }
}

interface IpLink { ifname: string; flags?: string[] }
interface IpAddr { ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }

/**
 * Checks from inside a host namespace that it holds exactly lo and eth0, that eth0 carries the
 * host's address and multicast, and that there is no default route: proof that the command
 * really ran in the host's namespace and that nothing but the lab is reachable from it.
 */
export async function verifyHost(host: WiredHost): Promise<void> {
  const links = JSON.parse((await runOk('ip', ['-n', host.namespace, '-j', 'link', 'show'])).stdout) as IpLink[];
  const names = links.map((l) => l.ifname).sort();
  if (names.join(',') !== 'eth0,lo') throw new Error(`lab host ${host.name} (${host.namespace}) should hold only lo and eth0 but has: ${names.join(', ')}`);
  const eth0 = links.find((l) => l.ifname === 'eth0');
  if (!eth0?.flags?.includes('MULTICAST')) throw new Error(`lab host ${host.name}: eth0 has no MULTICAST flag (${eth0?.flags?.join(',')})`);
  const addrs = JSON.parse((await runOk('ip', ['-n', host.namespace, '-j', '-4', 'addr', 'show'])).stdout) as IpAddr[];
  const v4 = addrs.flatMap((a) => a.addr_info.filter((i) => i.family === 'inet').map((i) => `${a.ifname}:${i.local}/${i.prefixlen}`)).sort();
  const expected = [`eth0:${host.address}/${LAB_PREFIX_LENGTH}`, 'lo:127.0.0.1/8'];
  if (v4.join(',') !== expected.join(',')) throw new Error(`lab host ${host.name}: expected IPv4 addresses ${expected.join(', ')} but found ${v4.join(', ')}`);
  const routes = (await runOk('ip', ['-n', host.namespace, '-4', 'route', 'show', 'default'])).stdout.trim();
  if (routes) throw new Error(`lab host ${host.name} has a default route, so traffic could leave the lab: ${routes}`);
}

/** Deletes namespaces by name, ignoring those already gone. */
export async function deleteNamespaces(names: readonly string[]): Promise<void> {
  for (const name of names) {
    const result = await run('ip', ['netns', 'delete', name], { timeoutMs: 10_000 });
    if (result.code !== 0 && !/No such file|Invalid argument/.test(result.stderr)) {
      throw new Error(`cannot delete network namespace ${name}: ${result.stderr.trim()}`);
    }
  }
}

export function deleteNamespacesSync(names: readonly string[]): void {
  for (const name of names) spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 5_000 });
}

/** Pids of every process inside a namespace (empty when the namespace is gone). */
export async function namespacePids(namespace: string): Promise<number[]> {
  const result = await run('ip', ['netns', 'pids', namespace], { timeoutMs: 10_000 });
  return result.code === 0 ? result.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

export function namespacePidsSync(namespace: string): number[] {
  const result = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8', timeout: 5_000 });
  return result.status === 0 ? (result.stdout ?? '').split(/\s+/).filter(Boolean).map(Number) : [];
}

/** SIGKILL to every process in the namespaces; frozen (SIGSTOPped) ones die too. */
export function killNamespacePidsSync(namespaces: readonly string[]): void {
  for (const namespace of namespaces) {
    for (const pid of namespacePidsSync(namespace)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

/** Kills every process in the namespaces and waits (bounded) until none is left. */
export async function emptyNamespaces(namespaces: readonly string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left: Array<[string, number[]]> = [];
    for (const namespace of namespaces) {
      const pids = await namespacePids(namespace);
      if (pids.length > 0) left.push([namespace, pids]);
    }
    if (left.length === 0) return;
    for (const [, pids] of left) {
      for (const pid of pids) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    if (Date.now() >= deadline) {
      throw new Error(`processes still alive after SIGKILL: ${left.map(([ns, pids]) => `${ns}: ${pids.join(' ')}`).join('; ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Which namespace a process is in, by name ('' for one the lab did not name, such as the root namespace). */
export async function namespaceOf(pid: number): Promise<string> {
  return (await run('ip', ['netns', 'identify', String(pid)], { timeoutMs: 10_000 })).stdout.trim();
}
