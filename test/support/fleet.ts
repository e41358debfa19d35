/**
 * A fleet lab on loopback for system tests: real `cistern controller` and `cistern agent`
 * processes (the built CLI), each with its own HOME, data and state folders under one temp
 * folder, so nothing touches the real home. The CLI talks to a controller through the config
 * the controller saved in its HOME on first start.
 *
 * Every process a lab starts is killed, and its folder removed, by `cleanup()`; call it from
 * afterEach/afterAll so that happens on failure too. Processes still alive when the test worker
 * exits are killed then as well.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerView } from '../../src/controller/core.js';
import type { FleetEvent } from '../../src/controller/events.js';
import { expect } from 'vitest';
import { runCistern, spawnCistern, type ProcessResult } from './cistern.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The fleet timing every lab controller runs with. */
export const HEARTBEAT_MS = 1_000;
export const TTL_MS = 3_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * HOME, and the variables that would override it, cleared: where the CLI, the controller and
 * the agent put their config and state is decided by HOME alone.
 */
export function homeEnv(home: string): NodeJS.ProcessEnv {
  return {
    HOME: home,
    XDG_CONFIG_HOME: undefined, XDG_DATA_HOME: undefined,
    CISTERN_URL: undefined, CISTERN_TOKEN: undefined, CISTERN_CA: undefined,
    CISTERN_DATA_DIR: undefined, CISTERN_AGENT_DIR: undefined, CISTERN_INVENTORY: undefined,
    CISTERN_LOG_LEVEL: undefined,
  };
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

/** A long-running cistern process, with its output kept for assertions and failure messages. */
export class Daemon {
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  private readonly listeners = new Set<() => void>();

  constructor(readonly label: string, readonly child: ChildProcess) {
    live.add(child);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { this.stdout += chunk; this.changed(); });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; this.changed(); });
    // 'close', not 'exit': it comes after stdout and stderr have been read to the end.
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => {
      live.delete(child);
      this.exit = { code, signal };
      this.changed();
      resolve(this.exit);
    }));
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.label} has no pid: it did not start`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** stderr's JSON log lines (pino), parsed; other lines are skipped. */
  logs(): Array<{ level: string; msg: string; [key: string]: unknown }> {
    return this.stderr.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try { return [JSON.parse(line) as { level: string; msg: string }]; } catch { return []; }
    });
  }

  /** What the process printed, for failure messages. */
  describe(): string {
    const state = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : 'running';
    return `${this.label} [${state}]\n--- stdout:\n${this.stdout.slice(-4_000)}\n--- stderr:\n${this.stderr.slice(-6_000)}`;
  }

  /** Resolves with the first match of `pattern` in the stream; rejects if the process exits first or time runs out. */
  waitForOutput(pattern: RegExp, options: { stream?: 'stdout' | 'stderr'; timeoutMs?: number } = {}): Promise<RegExpMatchArray> {
    const stream = options.stream ?? 'stdout';
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this[stream]);
        if (match) finish(() => resolve(match));
        else if (this.exit) finish(() => reject(new Error(`${this.label} exited before printing ${pattern} on ${stream}\n${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.label} did not print ${pattern} on ${stream} in ${timeoutMs} ms\n${this.describe()}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Waits for the process to exit by itself; rejects after `timeoutMs`. */
  async waitForExit(timeoutMs = 10_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label} did not exit in ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT…) to a running process. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM and wait for a clean exit; SIGKILL (and a failure) if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exit as Exit;
    this.child.kill('SIGTERM');
    try {
      return await this.waitForExit(timeoutMs);
    } catch (error) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw error;
    }
  }

  /** For cleanup: SIGKILL (a frozen process dies too) and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export interface Controller {
  daemon: Daemon;
  /** As printed: https://127.0.0.1:PORT. */
  url: string;
  port: number;
  /** sha256:… of the controller's CA, as printed. */
  fingerprint: string;
  /** Printed on the first start only. */
  adminToken: string | undefined;
  home: string;
  dataDir: string;
  inventory: string | undefined;
}

export interface Agent {
  daemon: Daemon;
  stateDir: string;
  home: string;
}

export interface JoinToken { id: string; token: string; command: string; usesLeft: number | null; expiresAt: number | null }

export interface ServerDetail { server: ServerView; facts: Record<string, unknown> | null; ageRecipient: string | null; history: FleetEvent[] }

export interface WaitOptions { timeoutMs?: number; intervalMs?: number }

/** Thrown by a wait whose lab was cleaned up meanwhile (the test timed out): stops polling. */
class LabClosed extends Error {}

/**
 * Polls `probe` every `intervalMs` (200 ms) until it returns something other than undefined,
 * false or null, and returns that. Past the deadline it fails with `what`, the last value the
 * probe saw (via `describe`) and its last error.
 */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false | null>, options: WaitOptions & { describe?: () => string } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      if (error instanceof LabClosed) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `\nlast error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${options.describe ? `\n${options.describe()}` : ''}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** The fields of the health events of one server, in order, from `events`. */
export function healthSteps(events: readonly FleetEvent[], server: string): Array<{ from: string; to: string; at: number; id: number }> {
  return events.filter((e) => e.kind === 'health' && e.server === server).map((e) => ({ from: String(e.data.from), to: String(e.data.to), at: e.at, id: e.id }));
}

/** One lab: a temp folder with every process's HOME and state, and the processes it started. */
export class FleetLab {
  readonly root = mkdtempSync(join(tmpdir(), 'cistern-fleet-'));
  private readonly daemons: Daemon[] = [];
  private count = 0;
  private closed = false;

  /** A new empty folder in the lab. */
  dir(name: string): string {
    const dir = join(this.root, `${name}-${++this.count}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private spawn(label: string, args: string[], home: string): Daemon {
    if (this.closed) throw new LabClosed(`the lab was cleaned up: not starting ${label}`);
    const daemon = new Daemon(label, spawnCistern(args, homeEnv(home)));
    this.daemons.push(daemon);
    return daemon;
  }

  /**
   * Starts `cistern controller` on 127.0.0.1 with the lab's fleet timing, and waits for it to
   * print its URL, CA fingerprint and (first start) the admin token. Without `port` it listens
   * on port 0 and the kernel picks a free one, which the printed URL tells.
   */
  async startController(options: { home?: string; dataDir?: string; port?: number; inventory?: string; timeoutMs?: number } = {}): Promise<Controller> {
    const home = options.home ?? this.dir('controller-home');
    const dataDir = options.dataDir ?? this.dir('controller-data');
    const args = [
      // No mDNS: on loopback it would multicast out of the machine's real interface.
      'controller', '--no-mdns', '--listen', `127.0.0.1:${options.port ?? 0}`, '--data-dir', dataDir,
      '--heartbeat-interval', `${HEARTBEAT_MS / 1000}s`, '--ttl', `${TTL_MS / 1000}s`,
      ...(options.inventory ? ['--inventory', options.inventory] : []),
    ];
    const daemon = this.spawn('controller', args, home);
    const timeoutMs = options.timeoutMs ?? 15_000;
    // The last line of the banner: the config for the CLI has been saved by then.
    await daemon.waitForOutput(/^add a server: /m, { timeoutMs });
    const url = (await daemon.waitForOutput(/^controller listening at (https:\/\/127\.0\.0\.1:(\d+))$/m, { timeoutMs: 0 }))[1] as string;
    const fingerprint = (await daemon.waitForOutput(/^CA fingerprint: (sha256:[0-9a-f]{64})$/m, { timeoutMs: 0 }))[1] as string;
    const adminToken = /^admin token \(shown once[^\n]*\n {2}(csa_\S+)$/m.exec(daemon.stdout)?.[1];
    return { daemon, url, port: Number(new URL(url).port), fingerprint, adminToken, home, dataDir, inventory: options.inventory };
  }

  /** SIGTERM (a clean exit is required), then the same controller again: same HOME, data dir, port and inventory. */
  async restartController(controller: Controller): Promise<Controller> {
    const exit = await controller.daemon.stop();
    if (exit.code !== 0) throw new Error(`the controller did not exit cleanly: ${JSON.stringify(exit)}\n${controller.daemon.describe()}`);
    return this.startController({ home: controller.home, dataDir: controller.dataDir, port: controller.port, inventory: controller.inventory });
  }

  /**
   * Starts `cistern agent`. With `token`, the arguments are those of the command
   * `cistern token create` printed (plus `--name`), or `caHash` replaces its --ca-hash; without,
   * only --state-dir. Does not wait: see `waitRegistered`.
   */
  startAgent(options: { token?: JoinToken; caHash?: string; name?: string; stateDir?: string; home?: string; args?: readonly string[] } = {}): Agent {
    const home = options.home ?? this.dir('agent-home');
    const stateDir = options.stateDir ?? join(this.dir('agent'), 'state');
    let args: string[] = [];
    if (options.token) {
      args = options.token.command.split(' ');
      if (args[0] !== 'cistern' || args[1] !== 'agent') throw new Error(`unexpected join command: ${options.token.command}`);
      args = args.slice(2);
      if (options.caHash !== undefined) args[args.indexOf('--ca-hash') + 1] = options.caHash;
    }
    args.push(...(options.args ?? []));
    // Many agents share loopback here: none serves metrics on the default port 9810 unless a
    // test gives it its own --metrics-listen.
    if (!args.includes('--metrics-listen')) args.push('--no-metrics');
    const daemon = this.spawn(`agent ${options.name ?? stateDir}`, ['agent', '--no-mdns', ...args, ...(options.name ? ['--name', options.name] : []), '--state-dir', stateDir], home);
    return { daemon, stateDir, home };
  }

  /** Waits for "registered as NAME" and returns NAME. */
  async waitRegistered(agent: Agent, timeoutMs = 15_000): Promise<string> {
    return (await agent.daemon.waitForOutput(/^registered as (\S+)$/m, { timeoutMs }))[1] as string;
  }

  /** Runs the CLI against `controller` (HOME is the controller's, so the CLI finds its saved config). */
  async cli(controller: Controller, args: readonly string[], timeoutMs = 15_000): Promise<ProcessResult> {
    if (this.closed) throw new LabClosed(`the lab was cleaned up: not running \`cistern ${args.join(' ')}\``);
    return runCistern(args, homeEnv(controller.home), timeoutMs);
  }

  /** Runs the CLI with --json; a non-zero exit is an error carrying its output. */
  async json<T>(controller: Controller, args: readonly string[]): Promise<T> {
    const result = await this.cli(controller, [...args, '--json']);
    if (result.code !== 0) throw new Error(`\`cistern ${args.join(' ')} --json\` failed (exit ${result.code ?? result.signal}):\n${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  createToken(controller: Controller, options: { uses?: number; ttl?: string } = {}): Promise<JoinToken> {
    return this.json<JoinToken>(controller, ['token', 'create', '--ttl', options.ttl ?? '10m', ...(options.uses === undefined ? [] : ['--uses', String(options.uses)])]);
  }

  status(controller: Controller): Promise<ServerView[]> {
    return this.json<ServerView[]>(controller, ['status']);
  }

  events(controller: Controller): Promise<FleetEvent[]> {
    return this.json<FleetEvent[]>(controller, ['events', '--limit', '1000']);
  }

  serverShow(controller: Controller, name: string): Promise<ServerDetail> {
    return this.json<ServerDetail>(controller, ['server', 'show', name]);
  }

  /** Polls `cistern status --json` until `pick` returns something for the server list. */
  waitForStatus<T>(controller: Controller, what: string, pick: (servers: ServerView[]) => T | undefined | false | null, options: WaitOptions = {}): Promise<T> {
    let last: ServerView[] | undefined;
    return waitUntil(what, async () => {
      last = await this.status(controller);
      return pick(last);
    }, { ...options, describe: () => `last status: ${JSON.stringify(last?.map((s) => ({ name: s.name, health: s.health, connected: s.connected })))}\n${this.describe()}` });
  }

  /** Polls `cistern status --json` until `server` is listed and `accept` holds; returns its view. */
  waitForServer(controller: Controller, server: string, accept: (view: ServerView) => boolean, options: WaitOptions = {}): Promise<ServerView> {
    return this.waitForStatus(controller, `${server} in \`cistern status\``, (servers) => {
      const view = servers.find((s) => s.name === server);
      return view && accept(view) ? view : undefined;
    }, options);
  }

  /** Polls `cistern events --json` until `pick` returns something for the event list. */
  waitForEvents<T>(controller: Controller, what: string, pick: (events: FleetEvent[]) => T | undefined | false | null, options: WaitOptions = {}): Promise<T> {
    let last: FleetEvent[] | undefined;
    return waitUntil(what, async () => {
      last = await this.events(controller);
      return pick(last);
    }, { ...options, describe: () => `last events:\n${(last ?? []).map((e) => `  ${e.id} ${e.kind} ${e.server ?? '-'} ${JSON.stringify(e.data)}`).join('\n')}\n${this.describe()}` });
  }

  /** Every process of the lab and its output, for failure messages. */
  describe(): string {
    return this.daemons.map((d) => d.describe()).join('\n');
  }

  /** Kills every agent the lab started (SIGKILL); controllers keep running. */
  async killAgents(): Promise<void> {
    await Promise.all(this.daemons.filter((d) => d.label.startsWith('agent')).map((d) => d.kill()));
  }

  /** Kills every process the lab started and removes its folder. */
  async cleanup(): Promise<void> {
    this.closed = true;
    await Promise.all(this.daemons.map((d) => d.kill()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Waits for a refused agent to exit, and checks it exits 1 with `code` on stderr and no credential saved; returns its stderr. */
export async function expectRefused(agent: Agent, code: string): Promise<string> {
  const exit = await agent.daemon.waitForExit(15_000);
  expect(exit, agent.daemon.describe()).toEqual({ code: 1, signal: null });
  expect(agent.daemon.stderr).toContain(`error[${code}]`);
  expect(() => statSync(join(agent.stateDir, 'credential.json'))).toThrow();
  return agent.daemon.stderr;
}
