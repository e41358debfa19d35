/**
 * The fleet lab: a few hosts on one machine, each a network namespace with its own address on a
 * bridge, running sshd, transmission-daemon, media stand-ins and, on request, Cistern's
 * controller and agents; plus the faults a real fleet suffers, on demand.
 *
 * Every lab has a hard time limit (60 s unless told otherwise): when it runs out, the lab tears
 * itself down and every later call fails saying so. `destroy()` (call it in afterAll/finally),
 * process exit and SIGINT/SIGTERM/SIGHUP tear it down too. Needs root.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import ts from 'typescript';
import { assertBuilt } from '../support/cistern.js';
import { run, runOk } from '../support/process.js';
import { SSHD } from '../support/sshd.js';
import { LabHost, type ServiceName } from './host.js';
import {
  assertLabName, deleteNamespaces, emptyNamespaces, listNamespaces, MAX_HOSTS, namespaceOf, verifyHost, wireLab,
} from './network.js';
import { processState, type LabProcess } from './processes.js';
import { claimLab, findLabs, ownerAlive, readMarker, registerLive, removeLab, teardownNamespacesSync, unregisterLive, type LiveLab } from './registry.js';
import { TRANSMISSION } from './services.js';
import { MEDIA_APP_NAMES, type MediaApp } from './standins/media.js';

export const DEFAULT_TIME_LIMIT_MS = 60_000;

export interface ServiceSelection {
  sshd?: boolean;
  transmission?: boolean;
  /** Which media stand-ins: true for all six (the default), false for none, or a list. */
  media?: boolean | readonly MediaApp[];
}

export interface LabOptions {
  hosts: number;
  /** Names the lab's namespaces (cistern-lab-NAME-h1…) and folder (/tmp/cistern-lab/NAME); random by default. */
  name?: string;
  /** Hard limit on the lab's life, from the start of createLab; 0 for none (only with `keep`). Default 60 s. */
  timeLimitMs?: number;
  /** What each host runs; a function chooses per host. Default: everything. */
  services?: ServiceSelection | ((host: { index: number; name: string }) => ServiceSelection);
  /** A controller on `controller` (a host name, default h1) and an agent, registered, on each host of `agents` (default all). */
  fleet?: { controller?: string; agents?: readonly string[] };
  /** For a person (`npm run lab -- up`): processes outlive this one, no time limit, no teardown on exit. */
  keep?: boolean;
  /** The API key every media stand-in accepts. */
  apiKey?: string;
}

export interface Impairment { delayMs?: number; lossPercent?: number }

export type HostRef = LabHost | string;

const INSTALL_HINT = 'run `bash scripts/ensure-test-deps.sh` as root';

/** Fails, with what to do, when the machine cannot build the lab: a lab test never skips. */
export function assertLabPrerequisites(options: { sshd?: boolean; transmission?: boolean; fleet?: boolean } = {}): void {
  if (process.platform !== 'linux') throw new Error(`the fleet lab needs Linux network namespaces; this is ${process.platform}`);
  if (process.getuid?.() !== 0) throw new Error('the fleet lab must run as root: it makes network namespaces, veth pairs and a bridge (`ip netns add`)');
  const needed = ['/usr/sbin/ip', ...(options.sshd ? [SSHD, '/usr/bin/ssh-keygen'] : []), ...(options.transmission ? [TRANSMISSION] : [])];
  for (const file of needed) if (!existsSync(file)) throw new Error(`the fleet lab cannot start: ${file} is missing; ${INSTALL_HINT}`);
  if (options.fleet) assertBuilt();
}

function selection(options: LabOptions, host: { index: number; name: string }): { sshd: boolean; transmission: boolean; media: readonly MediaApp[] } {
  const chosen = typeof options.services === 'function' ? options.services(host) : options.services ?? {};
  const media = chosen.media === undefined || chosen.media === true ? MEDIA_APP_NAMES : chosen.media === false ? [] : chosen.media;
  return { sshd: chosen.sshd ?? true, transmission: chosen.transmission ?? true, media };
}

/** Transpiles the media stand-in to plain JavaScript once per lab: each of its processes then starts in ~0.1 s instead of ~0.4 s with tsx. */
function transpileMedia(dir: string): string {
  const source = readFileSync(new URL('./standins/media.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
  const file = join(dir, 'media.mjs');
  writeFileSync(file, outputText);
  return file;
}

export class Lab {
  readonly hosts: LabHost[] = [];
  readonly apiKey: string;
  readonly timeLimitMs: number;
  switchNamespace = '';
  /** Why the lab was torn down, once it was. */
  closedBecause: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private destroying: Promise<void> | undefined;
  private mediaFile: Promise<string> | undefined;
  private readonly live: LiveLab;
  private rejectTimeLimit: (error: Error) => void = () => {};
  /** Rejects when the time limit tears the lab down (see `withLab`). */
  readonly timeLimitReached: Promise<never>;

  constructor(readonly name: string, readonly dir: string, readonly options: LabOptions) {
    this.apiKey = options.apiKey ?? randomBytes(16).toString('hex');
    this.timeLimitMs = options.keep ? 0 : options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
    this.timeLimitReached = new Promise<never>((_, reject) => { this.rejectTimeLimit = reject; });
    this.timeLimitReached.catch(() => { /* observed by withLab, if anyone */ });
    this.live = { name, teardownSync: () => teardownNamespacesSync(name, this.namespaces()) };
    if (this.timeLimitMs > 0) {
      this.timer = setTimeout(() => {
        const why = `its time limit of ${this.timeLimitMs} ms ran out`;
        process.stderr.write(`cistern lab ${name}: ${why}; tearing it down\n`);
        this.rejectTimeLimit(new Error(`lab ${name}: ${why}`));
        this.destroy(why).catch((error: unknown) => process.stderr.write(`cistern lab ${name}: teardown failed: ${String(error)}\n`));
      }, this.timeLimitMs);
      this.timer.unref();
    }
  }

  /** Every namespace of the lab: the switch's and each host's. */
  namespaces(): string[] {
    return [...(this.switchNamespace ? [this.switchNamespace] : []), ...this.hosts.map((h) => h.namespace)];
  }

  host(ref: HostRef): LabHost {
    if (typeof ref !== 'string') return ref;
    const found = this.hosts.find((h) => h.name === ref);
    if (!found) throw new Error(`lab ${this.name} has no host ${ref}; hosts: ${this.hosts.map((h) => h.name).join(', ')}`);
    return found;
  }

  assertOpen(host?: string): void {
    if (this.closedBecause !== undefined) throw new Error(`lab ${this.name} was torn down (${this.closedBecause})`);
    if (host !== undefined && this.host(host).killed) throw new Error(`host ${host} of lab ${this.name} was killed (lab.killHost)`);
  }

  /** Unplugs the host's cable at the switch: its link goes down, its address stays. */
  async cut(ref: HostRef): Promise<void> {
    await this.setLink(this.host(ref), 'down');
  }

  /** Plugs the cable back in; resolves once the host's eth0 has a carrier again. */
  async restore(ref: HostRef): Promise<void> {
    const host = this.host(ref);
    await this.setLink(host, 'up');
    const deadline = Date.now() + 5_000;
    for (;;) {
      const { stdout } = await runOk('ip', ['-n', host.namespace, '-o', 'link', 'show', 'eth0']);
      if (/[<,]LOWER_UP[,>]/.test(stdout)) return;
      if (Date.now() >= deadline) throw new Error(`${host.name}: eth0 has no carrier 5 s after restore: ${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async setLink(host: LabHost, state: 'up' | 'down'): Promise<void> {
    this.assertOpen(host.name);
    await runOk('ip', ['-n', this.switchNamespace, 'link', 'set', host.port, state]);
  }

  /**
   * Delay and loss on the host's link, both directions (`tc qdisc … netem` on the host's eth0
   * and its switch port); `null` removes them. Throws when the kernel has no netem.
   */
  async netem(ref: HostRef, impairment: Impairment | null): Promise<void> {
    const host = this.host(ref);
    this.assertOpen(host.name);
    const ends: Array<[string, string]> = [[host.namespace, 'eth0'], [this.switchNamespace, host.port]];
    if (impairment === null) {
      for (const [namespace, dev] of ends) {
        const result = await run('ip', ['netns', 'exec', namespace, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
        if (result.code !== 0 && !/No such file|Cannot delete qdisc with handle of zero/.test(result.stderr)) throw new Error(`tc qdisc del on ${dev} failed: ${result.stderr.trim()}`);
      }
      return;
    }
    const args = ['netem', 'delay', `${impairment.delayMs ?? 0}ms`, 'loss', `${impairment.lossPercent ?? 0}%`];
    for (const [namespace, dev] of ends) {
      const result = await run('ip', ['netns', 'exec', namespace, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', ...args]);
      if (result.code === 0) continue;
      if (/exec of "tc" failed/.test(result.stderr)) throw new Error(`lab.netem needs tc (Debian package iproute2): ${result.stderr.trim()}`);
      if (/Specified qdisc kind is unknown|Unknown qdisc/.test(result.stderr)) throw new Error(netemUnavailable());
      throw new Error(`tc qdisc replace dev ${dev} root ${args.join(' ')} failed: ${result.stderr.trim()}`);
    }
  }

  /** SIGSTOP: the process stays, its sockets stay open, nothing answers. */
  async freeze(ref: HostRef, name: string): Promise<void> {
    await this.signalAndWait(ref, name, 'SIGSTOP', (state) => state === 'T');
  }

  /** SIGCONT after `freeze`. */
  async thaw(ref: HostRef, name: string): Promise<void> {
    await this.signalAndWait(ref, name, 'SIGCONT', (state) => state !== 'T');
  }

  private async signalAndWait(ref: HostRef, name: string, signal: NodeJS.Signals, reached: (state: string | undefined) => boolean): Promise<void> {
    const host = this.host(ref);
    this.assertOpen(host.name);
    const target = host.process(name);
    target.signal(signal);
    const deadline = Date.now() + 2_000;
    while (!reached(processState(target.pid))) {
      if (Date.now() >= deadline) throw new Error(`${name} on ${host.name} (pid ${target.pid}) is in state ${processState(target.pid)} 2 s after ${signal}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** SIGKILL one process; `host.startService(name)` starts a lab service again. */
  async kill(ref: HostRef, name: string): Promise<void> {
    const host = this.host(ref);
    this.assertOpen(host.name);
    await host.process(name).kill();
  }

  /** The host dies: every process in it is killed and its namespace (and so its cable) removed. */
  async killHost(ref: HostRef): Promise<void> {
    const host = this.host(ref);
    this.assertOpen(host.name);
    host.killed = true;
    await Promise.all([...host.processes.values()].map((p) => p.kill()));
    await emptyNamespaces([host.namespace]);
    await deleteNamespaces([host.namespace]);
  }

  /** Starts a service again on a host (after `kill`), or one it was created without. */
  startService(ref: HostRef, service: ServiceName): Promise<LabProcess> {
    return this.host(ref).startService(service);
  }

  /** Used by hosts: the stand-in's JavaScript, made on first use. */
  mediaScript(): Promise<string> {
    this.mediaFile ??= Promise.resolve().then(() => transpileMedia(this.dir));
    return this.mediaFile;
  }

  /** Kills everything, deletes every namespace, checks none is left, removes the folder. Safe to call twice. */
  destroy(reason = 'destroyed'): Promise<void> {
    this.destroying ??= (async () => {
      this.closedBecause = reason;
      clearTimeout(this.timer);
      const processes = this.hosts.flatMap((h) => [...h.processes.values()]);
      await Promise.all(processes.map((p) => p.kill()));
      await removeLab(this.name, this.namespaces());
      unregisterLive(this.live);
      const left = (await listNamespaces()).filter((n) => this.namespaces().includes(n));
      if (left.length > 0) throw new Error(`lab ${this.name}: namespaces left after teardown: ${left.join(', ')}`);
    })();
    return this.destroying;
  }

  /** @internal createLab's steps, in order. */
  async build(): Promise<void> {
    registerLive(this.live);
    const wired = await wireLab(this.name, this.options.hosts);
    this.switchNamespace = wired.switchNamespace;
    const context = {
      assertOpen: (host: string) => this.assertOpen(host),
      mediaScript: () => this.mediaScript(),
      apiKey: this.apiKey,
      spawnOptions: { detached: this.options.keep ?? false },
    };
    for (const [i, w] of wired.hosts.entries()) {
      this.hosts.push(new LabHost({ ...w, index: i + 1, dir: join(this.dir, w.name), context }));
    }
    await Promise.all(wired.hosts.map((w) => verifyHost(w)));
    await Promise.all(this.hosts.map((h) => h.startServices(selection(this.options, h))));
    await this.verifyProcesses();
    if (this.options.fleet) await this.startFleet(this.options.fleet);
    // A kept lab is for a person: from now on it outlives this process, until `npm run lab -- down`.
    if (this.options.keep) unregisterLive(this.live);
  }

  /** Every process the lab started runs in its own host's namespace, not the root one. */
  async verifyProcesses(): Promise<void> {
    for (const host of this.hosts) {
      for (const p of host.processes.values()) {
        if (!p.running) continue;
        const namespace = await namespaceOf(p.pid);
        if (namespace !== host.namespace) throw new Error(`${p.name} of ${host.name} (pid ${p.pid}) runs in namespace "${namespace || 'root'}", not ${host.namespace}`);
      }
    }
  }

  private async startFleet(fleet: NonNullable<LabOptions['fleet']>): Promise<void> {
    const controllerHost = this.host(fleet.controller ?? 'h1');
    await controllerHost.startController();
    const token = await controllerHost.cistern(['token', 'create', '--ttl', '10m', '--json']);
    if (token.code !== 0) throw new Error(`cistern token create failed on ${controllerHost.name}: ${token.stderr}${token.stdout}`);
    const joinCommand = (JSON.parse(token.stdout) as { command: string }).command;
    const agents = fleet.agents ?? this.hosts.map((h) => h.name);
    await Promise.all(agents.map((name) => this.host(name).startAgent({ joinCommand })));
  }
}

/** Why netem fails here, from the kernel's own config when it exposes one. */
function netemUnavailable(): string {
  let config = '';
  try {
    config = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch { /* no kernel config exposed */ }
  const why = /^# CONFIG_NET_SCH_NETEM is not set$/m.test(config)
    ? 'this kernel is built without it (/proc/config.gz: "# CONFIG_NET_SCH_NETEM is not set") and cannot load modules'
    : 'the kernel does not know the netem queueing discipline (sch_netem is neither built in nor loadable)';
  return `lab.netem is not available on this machine: ${why}, so delay and loss cannot be emulated here. cut/restore, freeze/thaw, kill and killHost still work.`;
}

/**
 * Builds a lab of `hosts` hosts. A run that cannot build it fails with what went wrong (and
 * leaves nothing behind); it never skips. Leftovers of an earlier run of the same name whose
 * owner is gone are removed first; a same-named lab of a live process is an error.
 */
export async function createLab(options: LabOptions): Promise<Lab> {
  const started = performance.now();
  if (!Number.isInteger(options.hosts) || options.hosts < 1 || options.hosts > MAX_HOSTS) throw new Error(`hosts must be an integer from 1 to ${MAX_HOSTS}, not ${options.hosts}`);
  const wanted = Array.from({ length: options.hosts }, (_, i) => selection(options, { index: i + 1, name: `h${i + 1}` }));
  assertLabPrerequisites({ sshd: wanted.some((s) => s.sshd), transmission: wanted.some((s) => s.transmission), fleet: options.fleet !== undefined });
  const name = options.name ?? `t${randomBytes(3).toString('hex')}`;
  assertLabName(name);
  const leftovers = (await findLabs()).get(name);
  if (leftovers) {
    const marker = readMarker(name);
    if (marker?.keep) throw new Error(`lab ${name} is up for exploring by hand; remove it first: npm run lab -- down --name ${name}`);
    if (marker && ownerAlive(marker)) throw new Error(`lab ${name} already exists, owned by running process ${marker.pid}`);
    await removeLab(name, leftovers);
  }
  const lab = new Lab(name, claimLab(name, { keep: options.keep ?? false, hosts: options.hosts }), options);
  try {
    await lab.build();
  } catch (error) {
    const reason = lab.closedBecause;
    await lab.destroy('failed to build').catch(() => { /* the build error is the one to report */ });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot build the fleet lab ${name} (${options.hosts} hosts) after ${Math.round(performance.now() - started)} ms${reason ? `; ${reason}` : ''}: ${message}`, { cause: error });
  }
  return lab;
}

/**
 * Runs `scenario` on a fresh lab and tears the lab down afterwards, whatever happens; fails
 * when the scenario outlives the lab's time limit.
 */
export async function withLab<T>(options: LabOptions, scenario: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(options);
  try {
    return await Promise.race([scenario(lab), lab.timeLimitReached]);
  } finally {
    await lab.destroy();
  }
}
