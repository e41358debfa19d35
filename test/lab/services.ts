/**
 * What runs on a lab host: OpenSSH's sshd, Debian's real transmission-daemon, the media
 * stand-ins, and Cistern's own controller and agent (the built CLI). Each starts as a
 * `LabProcess` inside the host's namespace and is ready when its log says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from '../support/cistern.js';
import { SSHD, writeSshdFiles } from '../support/sshd.js';
import { LAB_SUBNET } from './network.js';
import { LabProcess, type SpawnOptions } from './processes.js';
import { MEDIA_APPS, type MediaApp, type StandinConfig } from './standins/media.js';

export const TRANSMISSION = '/usr/bin/transmission-daemon';
export const TRANSMISSION_RPC_PORT = 9091;
export const SSH_PORT = 22;
export const CONTROLLER_PORT = 7443;

/** Where a service runs: the host it belongs to and the folder it may write in. */
export interface ServiceHost {
  name: string;
  namespace: string;
  address: string;
  dir: string;
  spawnOptions: SpawnOptions;
}

const READY_MS = 15_000;

function serviceDir(host: ServiceHost, service: string): string {
  const dir = join(host.dir, service);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Starts a process inside the host, its output in DIR/NAME.log. */
export function startProcess(host: ServiceHost, name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): LabProcess {
  return new LabProcess({ ...host.spawnOptions, ...(env ? { env } : {}), host: host.name, namespace: host.namespace, name, logFile: join(host.dir, `${name}.log`), command, args });
}

/** Runs `ready` on a fresh process; if it fails, kills the process before rethrowing. */
async function whenReady(started: LabProcess, ready: (p: LabProcess) => Promise<unknown>): Promise<LabProcess> {
  try {
    await ready(started);
    return started;
  } catch (error) {
    await started.kill();
    throw error;
  }
}

/** sshd on the host's address, port 22, with its own host key; nobody can log in (test/support/sshd.ts). */
export async function startSshd(host: ServiceHost): Promise<LabProcess> {
  const config = await writeSshdFiles(serviceDir(host, 'sshd'), SSH_PORT, '0.0.0.0');
  const sshd = startProcess(host, 'sshd', SSHD, ['-D', '-e', '-f', config]);
  return whenReady(sshd, (p) => p.waitForLog(new RegExp(`Server listening on 0\\.0\\.0\\.0 port ${SSH_PORT}\\b`), READY_MS));
}

/**
 * settings.json for transmission-daemon 3.00: RPC on 9091 for the lab range without a password,
 * and every peer-finding feature off (DHT, LPD, PEX, µTP, UPnP/NAT-PMP), so the daemon sends
 * nothing on its own: the lab stays quiet and no lookup is ever tried.
 */
export function transmissionSettings(dir: string): Record<string, unknown> {
  const [network] = LAB_SUBNET.split('/');
  return {
    'rpc-enabled': true,
    'rpc-bind-address': '0.0.0.0',
    'rpc-port': TRANSMISSION_RPC_PORT,
    'rpc-whitelist-enabled': true,
    'rpc-whitelist': `127.0.0.1,${(network ?? '').replace(/\.0$/, '.*')}`,
    'rpc-authentication-required': false,
    'rpc-host-whitelist-enabled': true,
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'blocklist-enabled': false,
    'download-dir': join(dir, 'downloads'),
    'incomplete-dir-enabled': false,
    'message-level': 2,
  };
}

/** The real transmission-daemon, in the foreground (-f), with its own --config-dir. */
export async function startTransmission(host: ServiceHost): Promise<LabProcess> {
  const dir = serviceDir(host, 'transmission');
  writeFileSync(join(dir, 'settings.json'), `${JSON.stringify(transmissionSettings(dir), null, 2)}\n`);
  const transmission = startProcess(host, 'transmission', TRANSMISSION, ['-f', '--config-dir', dir]);
  return whenReady(transmission, (p) => p.waitForLog(new RegExp(`Serving RPC and Web requests on 0\\.0\\.0\\.0:${TRANSMISSION_RPC_PORT}`), READY_MS));
}

export function mediaControlFile(host: ServiceHost, app: MediaApp): string {
  return join(host.dir, 'media', `${app}.json`);
}

/** One media stand-in; `script` is test/lab/standins/media.ts transpiled to JavaScript. */
export async function startMedia(host: ServiceHost, app: MediaApp, options: { script: string; apiKey: string }): Promise<LabProcess> {
  serviceDir(host, 'media');
  const config: StandinConfig = {
    app, port: MEDIA_APPS[app].port, controlFile: mediaControlFile(host, app), apiKey: options.apiKey, serverName: host.name, address: host.address,
  };
  const media = startProcess(host, app, process.execPath, [options.script, JSON.stringify(config)]);
  return whenReady(media, (p) => p.waitForLog(new RegExp(`^${app} listening on `, 'm'), READY_MS));
}

/** HOME and the variables that would override it, for a cistern process of this host. */
function cisternEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' };
  for (const name of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'CISTERN_URL', 'CISTERN_TOKEN', 'CISTERN_CA', 'CISTERN_DATA_DIR', 'CISTERN_AGENT_DIR', 'CISTERN_INVENTORY', 'CISTERN_LOG_LEVEL']) delete env[name];
  return env;
}

export interface LabController {
  process: LabProcess;
  /** As printed: https://ADDRESS:7443, the host's lab address. */
  url: string;
  fingerprint: string;
  /** HOME of the controller, where it saved the CLI's config: run the CLI with it (`host.cistern`). */
  home: string;
  env: NodeJS.ProcessEnv;
}

export interface ControllerOptions {
  heartbeatIntervalS?: number;
  ttlS?: number;
  inventory?: string;
  /** Advertise and browse with mDNS on the host's eth0 (default true). */
  mdns?: boolean;
}

/** `cistern controller` on the host's address, with its HOME and data under the host's folder. */
export async function startController(host: ServiceHost, options: ControllerOptions = {}): Promise<LabController> {
  const home = serviceDir(host, 'controller-home');
  const env = cisternEnv(home);
  const args = [
    BIN, 'controller', '--listen', `0.0.0.0:${CONTROLLER_PORT}`, '--data-dir', serviceDir(host, 'controller-data'),
    '--heartbeat-interval', `${options.heartbeatIntervalS ?? 1}s`, '--ttl', `${options.ttlS ?? 3}s`,
    ...(options.inventory ? ['--inventory', options.inventory] : []),
    ...(options.mdns === false ? ['--no-mdns'] : ['--mdns-interface', host.address]),
  ];
  const controller = startProcess(host, 'controller', process.execPath, args, env);
  await whenReady(controller, (p) => p.waitForLog(/^add a server: /m, READY_MS));
  const log = controller.log();
  const url = /^controller listening at (https:\/\/\S+)$/m.exec(log)?.[1];
  const fingerprint = /^CA fingerprint: (sha256:[0-9a-f]{64})$/m.exec(log)?.[1];
  if (!url || !fingerprint) {
    await controller.kill();
    throw new Error(`the controller on ${host.name} printed no URL or CA fingerprint\n${controller.describe()}`);
  }
  return { process: controller, url, fingerprint, home, env };
}

/** How the agent joins: exactly one of these. */
export interface AgentOptions {
  /** The command `cistern token create --json` printed (`token.command`). */
  joinCommand?: string;
  /** A provisioning key (`cistern token create --provisioning`): the agent finds the controller by mDNS. */
  provisioningKey?: string;
  /** No key: the agent finds the controller by mDNS and waits for `cistern discover approve`. */
  discoverable?: boolean;
  /** Server name to register as; default: the host's name. */
  name?: string;
  /** Advertise with mDNS on the host's eth0 (default true). */
  mdns?: boolean;
  /**
   * Serve /metrics: on 0.0.0.0:9810 by default (each host is its own namespace, so agents never
   * collide), on HOST:PORT when given, not at all with false.
   */
  metrics?: string | false;
  /** More `cistern agent` flags, e.g. ['--service-driver', 'process']. */
  args?: readonly string[];
}

function joinArgs(options: AgentOptions): string[] {
  if (options.joinCommand !== undefined) {
    const words = options.joinCommand.split(' ');
    if (words[0] !== 'cistern' || words[1] !== 'agent') throw new Error(`unexpected join command: ${options.joinCommand}`);
    return words.slice(2);
  }
  if (options.provisioningKey !== undefined) return ['--provisioning-key', options.provisioningKey];
  if (options.discoverable) return ['--discoverable'];
  throw new Error('startAgent needs a joinCommand, a provisioningKey or discoverable');
}

/**
 * `cistern agent` on the host; ready when it has registered, or, when discoverable, when it
 * waits for approval (then `waitForLog(/^registered as/)` after approving).
 */
export async function startAgent(host: ServiceHost, options: AgentOptions): Promise<LabProcess> {
  const name = options.name ?? host.name;
  const args = [
    BIN, 'agent', ...joinArgs(options), '--name', name, '--state-dir', join(serviceDir(host, 'agent'), 'state'),
    ...(options.mdns === false ? ['--no-mdns'] : ['--mdns-interface', host.address]),
    ...(options.metrics === false ? ['--no-metrics'] : options.metrics !== undefined ? ['--metrics-listen', options.metrics] : []),
    ...(options.args ?? []),
  ];
  const agent = startProcess(host, 'agent', process.execPath, args, cisternEnv(serviceDir(host, 'agent-home')));
  const ready = options.discoverable ? /^waiting for approval as / : new RegExp(`^registered as ${name}$`);
  return whenReady(agent, (p) => p.waitForLog(new RegExp(ready.source, 'm'), READY_MS));
}

