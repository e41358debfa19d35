/**
 * Avahi inside a lab host, so tests can check that a stock Linux mDNS stack sees what Cistern
 * advertises (and the other way round) without touching the machine's own D-Bus or Avahi.
 *
 * Per host: a private `dbus-daemon` listening on a socket in the host's folder (hI/avahi/bus),
 * and `avahi-daemon` on that bus (DBUS_SYSTEM_BUS_ADDRESS), with its own config: host name hI,
 * IPv4 on eth0 only, nothing published but the host's own address. Avahi's clients
 * (avahi-browse, avahi-publish) reach it the same way, through `Avahi.env`.
 *
 * avahi-daemon keeps a pid file and a socket in the compiled-in /run/avahi-daemon, refuses to
 * start when that pid file names a live daemon, and has no option to move them: two hosts would
 * collide, and one would land in the machine's /run. So it runs in a mount namespace of its own
 * with hI/avahi/run bind-mounted over /run (the pid file shows up in hI/avahi/run/avahi-daemon/).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunOptions, RunResult } from '../support/process.js';
import type { LabProcess } from './processes.js';

export const AVAHI_DAEMON = '/usr/sbin/avahi-daemon';
export const AVAHI_BROWSE = '/usr/bin/avahi-browse';
export const AVAHI_PUBLISH = '/usr/bin/avahi-publish';
export const DBUS_DAEMON = '/usr/bin/dbus-daemon';
const UNSHARE = '/usr/bin/unshare';

const READY_MS = 10_000;

/** What Avahi needs of a lab host (LabHost has it all). */
export interface AvahiHost {
  name: string;
  dir: string;
  /** The Avahi started here before, if any. */
  avahi?: Avahi | undefined;
  spawn(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): LabProcess;
  exec(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export interface Avahi {
  dbus: LabProcess;
  daemon: LabProcess;
  /** unix:path=…/hI/avahi/bus */
  busAddress: string;
  /** This process's environment with DBUS_SYSTEM_BUS_ADDRESS set: run Avahi's clients with it. */
  env: NodeJS.ProcessEnv;
  /** The name Avahi announces, hI.local. */
  hostName: string;
}

/** One resolved line of `avahi-browse -p`, unescaped. */
export interface AvahiService {
  interface: string;
  protocol: string;
  /** The instance name, e.g. "Cistern agent on h2". */
  name: string;
  type: string;
  domain: string;
  /** The SRV target, as the publisher gave it (h2.local). */
  host: string;
  address: string;
  port: number;
  /** Key to value; a bare key (a boolean attribute) maps to ''. The first of a repeated key wins (RFC 6763, 6.4). */
  txt: Record<string, string>;
}

/** Fails, with what to install, when a machine cannot run Avahi in the lab: tests that use it never skip. */
export function assertAvahiPrerequisites(): void {
  for (const file of [AVAHI_DAEMON, AVAHI_BROWSE, AVAHI_PUBLISH, DBUS_DAEMON, UNSHARE]) {
    if (!existsSync(file)) throw new Error(`Avahi in the fleet lab cannot start: ${file} is missing; run \`bash scripts/ensure-test-deps.sh\` as root (Debian packages avahi-daemon, avahi-utils, dbus-daemon, util-linux)`);
  }
}

/** A bus that only the lab's root processes use: Avahi may own its name, everyone may talk to everyone. */
function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="org.freedesktop.Avahi"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;
}

function daemonConfig(hostName: string): string {
  return [
    '[server]',
    // Every lab host shares the machine's UTS namespace, so gethostname() is the same in all of
    // them: without its own name each Avahi would fight the others for it.
    `host-name=${hostName}`,
    'domain-name=local',
    'use-ipv4=yes',
    'use-ipv6=no',
    'allow-interfaces=eth0',
    'enable-dbus=yes',
    '',
    '[wide-area]',
    'enable-wide-area=no',
    '',
    '[publish]',
    // The host's A record stays: services published here (avahi-publish) name hI.local as their
    // target, and a browser elsewhere needs its address. The rest is noise in every browse.
    'publish-addresses=yes',
    'publish-workstation=no',
    'publish-hinfo=no',
    'publish-domain=no',
    // A link-local fe80:: address without its zone is of no use to a peer.
    'publish-aaaa-on-ipv4=no',
    '',
    '[reflector]',
    'enable-reflector=no',
    '',
  ].join('\n');
}

async function killAll(processes: readonly LabProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.kill().catch(() => { /* the startup error is the one to report */ })));
}

/**
 * Starts the host's private dbus-daemon (process `avahi-dbus`) and avahi-daemon (process
 * `avahi`), both tracked by the lab and killed at teardown; resolves once Avahi has claimed
 * hI.local. Bounded: each waits at most `timeoutMs`.
 */
export async function startAvahi(host: AvahiHost, options: { timeoutMs?: number } = {}): Promise<Avahi> {
  assertAvahiPrerequisites();
  const previous = host.avahi;
  if (previous?.daemon.running) throw new Error(`Avahi is already running on ${host.name} (pid ${previous.daemon.pid})`);
  // After `lab.kill(host, 'avahi')`: the old bus goes too, so the new daemon starts as on a fresh host.
  await previous?.dbus.kill();
  const timeoutMs = options.timeoutMs ?? READY_MS;
  const dir = join(host.dir, 'avahi');
  const runDir = join(dir, 'run');
  // A daemon killed earlier on this host leaves its pid file and socket: start clean.
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  const socket = join(dir, 'bus');
  rmSync(socket, { force: true });
  writeFileSync(join(dir, 'bus.conf'), busConfig(socket));
  writeFileSync(join(dir, 'avahi-daemon.conf'), daemonConfig(host.name));

  const dbus = host.spawn('avahi-dbus', DBUS_DAEMON, [`--config-file=${join(dir, 'bus.conf')}`, '--nofork', '--nopidfile', '--nosyslog', '--print-address']);
  let busAddress: string;
  try {
    // --print-address writes the address once the socket accepts connections.
    busAddress = (await dbus.waitForLog(/^(unix:path=[^,\s]+)/m, timeoutMs))[1] as string;
  } catch (error) {
    await killAll([dbus]);
    throw error;
  }

  const env: NodeJS.ProcessEnv = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress };
  // `unshare` and `sh -c … exec` both exec, so the tracked pid is avahi-daemon itself.
  // `mount -n`: libmount would otherwise create /run/mount/ in the machine's /run.
  // --no-drop-root: the avahi user cannot enter the lab folder (root's, 0700). --no-chroot: no
  // chroot helper process beside the daemon. --no-proc-title keeps the config path in
  // /proc/PID/cmdline, so a leftover is recognisable as the lab's.
  const daemon = host.spawn('avahi', UNSHARE, [
    '--mount', '--propagation', 'private', 'sh', '-c', 'mount -n --bind "$0" /run && exec "$@"', runDir,
    AVAHI_DAEMON, '-f', join(dir, 'avahi-daemon.conf'), '--no-drop-root', '--no-chroot', '--no-proc-title',
  ], env);
  try {
    const hostName = (await daemon.waitForLog(/^Server startup complete\. Host name is (\S+)\./m, timeoutMs))[1] as string;
    if (hostName !== `${host.name}.local`) {
      throw new Error(`Avahi on ${host.name} had to rename itself to ${hostName}: something else on the lab claims ${host.name}.local\n${daemon.describe()}`);
    }
    return { dbus, daemon, busAddress, env, hostName };
  } catch (error) {
    await killAll([daemon, dbus]);
    throw error;
  }
}

/**
 * `avahi-browse -rptk TYPE` inside the host: what Avahi knows of TYPE right now, resolved (it
 * asks the network and waits for answers, about a second). -k: the raw type, not the name in
 * Avahi's service-type database ("_ssh._tcp", not "SSH Remote Terminal").
 */
export async function avahiBrowse(host: AvahiHost, avahi: Avahi, type: string, options: { timeoutMs?: number } = {}): Promise<AvahiService[]> {
  const result = await host.exec(AVAHI_BROWSE, ['-r', '-p', '-t', '-k', type], { env: avahi.env, timeoutMs: options.timeoutMs ?? READY_MS });
  if (result.code !== 0) throw new Error(`avahi-browse ${type} on ${host.name} failed (exit ${result.code ?? result.signal}): ${result.stderr.trim() || result.stdout.trim()}`);
  return parseAvahiBrowse(result.stdout);
}

/**
 * `avahi-publish -s NAME TYPE PORT k=v…` inside the host, tracked as `name` (default
 * avahi-publish); resolves once Avahi has established the service. It stays published until the
 * process is killed (`lab.kill`, or teardown).
 */
export async function avahiPublish(
  host: AvahiHost, avahi: Avahi,
  service: { name: string; type: string; port: number; txt?: Record<string, string>; processName?: string; timeoutMs?: number },
): Promise<LabProcess> {
  const txt = Object.entries(service.txt ?? {}).map(([key, value]) => `${key}=${value}`);
  const publisher = host.spawn(service.processName ?? 'avahi-publish', AVAHI_PUBLISH, ['-s', service.name, service.type, String(service.port), ...txt], avahi.env);
  try {
    await publisher.waitForLog(/^Established under name /m, service.timeoutMs ?? READY_MS);
    return publisher;
  } catch (error) {
    await killAll([publisher]);
    throw error;
  }
}

/**
 * Undoes avahi-browse's escaping. Names and host names go through avahi_escape_label: `\.` and
 * `\\` for a literal dot or backslash, `\DDD` (decimal) for every other byte outside
 * [A-Za-z0-9_-], so a UTF-8 character is several `\DDD`. TXT strings go through
 * avahi_string_list_to_string: `\"`, `\\`, and `\DDD` for bytes outside printable ASCII.
 */
export function unescapeAvahi(text: string): string {
  const bytes: number[] = [];
  for (const [, escaped, plain] of text.matchAll(/\\(\d{3}|[\s\S])|([^\\]+)/gu)) {
    if (escaped !== undefined && /^\d{3}$/.test(escaped)) bytes.push(Number(escaped));
    else bytes.push(...Buffer.from(escaped ?? plain ?? '', 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The quoted strings of a TXT field: `"k=v" "k2=v 2"`, unescaped, in wire order. */
function parseTxtField(field: string): string[] {
  const strings = [...field.matchAll(/"((?:[^"\\]|\\[\s\S])*)"/g)].map((m) => unescapeAvahi(m[1] ?? ''));
  // avahi-browse prints the strings last first.
  return strings.reverse();
}

function txtRecord(strings: readonly string[]): Record<string, string> {
  const txt: Record<string, string> = {};
  for (const entry of strings) {
    const equals = entry.indexOf('=');
    const key = equals === -1 ? entry : entry.slice(0, equals);
    // RFC 6763 6.4: a string without a key is ignored, and only the first of a key counts.
    if (key === '' || Object.hasOwn(txt, key)) continue;
    txt[key] = equals === -1 ? '' : entry.slice(equals + 1);
  }
  return txt;
}

/**
 * The resolved services ('=' lines) of `avahi-browse -p` output:
 * `=;IFACE;PROTO;NAME;TYPE;DOMAIN;HOST;ADDRESS;PORT;"k=v" "k=v"`. Only the TXT field may hold a
 * raw ';' (names escape it as \059), so it is everything after the ninth.
 */
export function parseAvahiBrowse(stdout: string): AvahiService[] {
  const services: AvahiService[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('=;')) continue;
    const fields: string[] = [];
    let rest = line.slice(2);
    while (fields.length < 8) {
      const at = rest.indexOf(';');
      if (at === -1) throw new Error(`avahi-browse printed a line with too few fields: ${line}`);
      fields.push(rest.slice(0, at));
      rest = rest.slice(at + 1);
    }
    const [iface, protocol, name, type, domain, host, address, port] = fields as [string, string, string, string, string, string, string, string];
    services.push({
      interface: iface, protocol, name: unescapeAvahi(name), type, domain, host: unescapeAvahi(host), address, port: Number(port),
      txt: txtRecord(parseTxtField(rest)),
    });
  }
  return services;
}
