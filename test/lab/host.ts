/**
 * One lab host: a network namespace with its own address on the lab bridge, a folder for its
 * services' files and logs, and the processes running in it.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from '../support/process.js';
import { BIN } from '../support/cistern.js';
import { avahiBrowse, startAvahi, type Avahi, type AvahiService } from './avahi.js';
import { httpFrom, tcpFrom, type HttpOptions, type HttpResult, type TcpResult } from './client.js';
import type { LabProcess, SpawnOptions } from './processes.js';
import {
  mediaControlFile, startAgent, startController, startMedia, startProcess, startSshd, startTransmission,
  type AgentOptions, type ControllerOptions, type LabController, type ServiceHost,
} from './services.js';
import { MEDIA_APP_NAMES, MEDIA_APPS, type Control, type MediaApp } from './standins/media.js';

/** The services the lab knows how to start, by the name their process gets. */
export type ServiceName = 'sshd' | 'transmission' | MediaApp;

export interface HostContext {
  /** Throws when the lab (or this host) was torn down. */
  assertOpen(host: string): void;
  mediaScript(): Promise<string>;
  apiKey: string;
  spawnOptions: SpawnOptions;
}

export interface LabHostOptions {
  index: number;
  name: string;
  namespace: string;
  address: string;
  /** The switch-side end of the host's cable, in the lab's switch namespace. */
  port: string;
  dir: string;
  context: HostContext;
}

export class LabHost implements ServiceHost {
  readonly index: number;
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly port: string;
  /** The host's folder: its services' files, their logs (NAME.log), the media control files (media/APP.json). */
  readonly dir: string;
  /** Every process started on this host, by name (a restarted service replaces its entry). */
  readonly processes = new Map<string, LabProcess>();
  controller: LabController | undefined;
  /** This host's Avahi, once `startAvahi` has run. */
  avahi: Avahi | undefined;
  killed = false;
  private readonly context: HostContext;

  constructor(options: LabHostOptions) {
    ({ index: this.index, name: this.name, namespace: this.namespace, address: this.address, port: this.port, dir: this.dir, context: this.context } = options);
    mkdirSync(join(this.dir, 'media'), { recursive: true, mode: 0o700 });
  }

  get spawnOptions(): SpawnOptions {
    return this.context.spawnOptions;
  }

  /** The process named `name` (sshd, transmission, jellyfin…, controller, agent, or one given to `spawn`). */
  process(name: string): LabProcess {
    const found = this.processes.get(name);
    if (!found) throw new Error(`no process ${name} on ${this.name}; it has: ${[...this.processes.keys()].join(', ') || 'none'}`);
    return found;
  }

  /** Runs a command inside this host to completion (bounded by `options.timeoutMs`, default 20 s). */
  exec(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.context.assertOpen(this.name);
    return run('ip', ['netns', 'exec', this.namespace, command, ...args], options);
  }

  /** Starts a long-running command inside this host, tracked (and killed at teardown) as `name`. */
  spawn(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): LabProcess {
    this.context.assertOpen(this.name);
    const started = startProcess(this, name, command, args, env);
    this.processes.set(name, started);
    return started;
  }

  /** An HTTP request from this host. */
  http(url: string, options?: HttpOptions): Promise<HttpResult> {
    this.context.assertOpen(this.name);
    return httpFrom(this.namespace, url, options);
  }

  /** A TCP connection from this host, optionally reading the server's first line. */
  tcp(address: string, port: number, options?: { readLine?: boolean; timeoutMs?: number }): Promise<TcpResult> {
    this.context.assertOpen(this.name);
    return tcpFrom(this.namespace, address, port, options);
  }

  /** http://ADDRESS:PORT/path of one of this host's media apps. */
  url(app: MediaApp, path: string): string {
    return `http://${this.address}:${MEDIA_APPS[app].port}${path}`;
  }

  /** Tells a media stand-in how to behave from its next request on (see standins/media.ts). */
  setMedia(app: MediaApp, control: Control): void {
    this.context.assertOpen(this.name);
    const file = mediaControlFile(this, app);
    writeFileSync(`${file}.tmp`, JSON.stringify(control));
    renameSync(`${file}.tmp`, file); // atomic: a request never reads half a file
  }

  /** Starts (or, after `lab.kill`, starts again) one of the lab's services on this host. */
  async startService(service: ServiceName): Promise<LabProcess> {
    this.context.assertOpen(this.name);
    const running = this.processes.get(service);
    if (running?.running) throw new Error(`${service} is already running on ${this.name} (pid ${running.pid})`);
    const started = service === 'sshd' ? await startSshd(this)
      : service === 'transmission' ? await startTransmission(this)
        : await startMedia(this, service, { script: await this.context.mediaScript(), apiKey: this.context.apiKey });
    this.processes.set(service, started);
    return started;
  }

  async startServices(services: { sshd: boolean; transmission: boolean; media: readonly MediaApp[] }): Promise<void> {
    const names: ServiceName[] = [...(services.sshd ? ['sshd' as const] : []), ...(services.transmission ? ['transmission' as const] : []), ...services.media];
    for (const app of MEDIA_APP_NAMES) if (services.media.includes(app)) this.setMedia(app, { health: 'ok' });
    await Promise.all(names.map((name) => this.startService(name)));
  }

  /** `cistern controller` on this host's address (port 7443); the CLI then works here through `cistern`. */
  async startController(options?: ControllerOptions): Promise<LabController> {
    this.context.assertOpen(this.name);
    this.controller = await startController(this, options);
    this.processes.set('controller', this.controller.process);
    return this.controller;
  }

  /** `cistern agent` joining with `joinCommand`; resolves once it has registered. */
  async startAgent(options: AgentOptions): Promise<LabProcess> {
    this.context.assertOpen(this.name);
    const agent = await startAgent(this, options);
    this.processes.set('agent', agent);
    return agent;
  }

  /** A private dbus-daemon and avahi-daemon on this host (processes `avahi-dbus`, `avahi`; see avahi.ts). */
  async startAvahi(): Promise<Avahi> {
    this.context.assertOpen(this.name);
    this.avahi = await startAvahi(this);
    return this.avahi;
  }

  /** `avahi-browse -rpt TYPE` through this host's Avahi, parsed: the services of TYPE it resolves now. */
  avahiBrowse(type: string, options?: { timeoutMs?: number }): Promise<AvahiService[]> {
    this.context.assertOpen(this.name);
    if (!this.avahi) throw new Error(`no Avahi on ${this.name}: start it with startAvahi()`);
    return avahiBrowse(this, this.avahi, type, options);
  }

  /** The built CLI, run inside this host with the HOME of the controller started here. */
  cistern(args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
    if (!this.controller) throw new Error(`no controller on ${this.name}: start one with startController()`);
    return this.exec(process.execPath, [BIN, ...args], { env: this.controller.env, timeoutMs });
  }

  /** `cistern ARGS --json` here, parsed; a non-zero exit throws with the output. */
  async cisternJson<T>(args: readonly string[]): Promise<T> {
    const result = await this.cistern([...args, '--json']);
    if (result.code !== 0) throw new Error(`cistern ${args.join(' ')} failed on ${this.name}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }
}
