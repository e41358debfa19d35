/**
 * The process driver: the agent spawns the service itself (argv, no shell) and owns it. For the
 * fleet lab and for boxes without systemd. The process gets its own process group, so stop and
 * restart reach whatever it forked: SIGTERM to the group, SIGKILL after `stopTimeoutMs`.
 * A service that daemonizes (forks and exits) cannot be run this way: give its foreground flag
 * (`transmission-daemon -f`).
 *
 * The environment is PATH plus what the service spec gives, never the agent's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CisternError } from '../../errors.js';
import type { DriverStatus, ServiceDriver } from './driver.js';

export interface ProcessSpec {
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
}

export interface ProcessDriverOptions extends ProcessSpec {
  /** The service name, for messages. */
  name: string;
  /** Where its stdout and stderr go (appended); nowhere when absent. */
  logFile?: string;
  /** How long a stop waits after SIGTERM before SIGKILL (default 10 s). */
  stopTimeoutMs?: number;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class ProcessDriver implements ServiceDriver {
  readonly kind = 'process';
  private spec: ProcessSpec;
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private exited: Promise<void> = Promise.resolve();
  private lastExit: string | undefined;

  constructor(private readonly options: ProcessDriverOptions) {
    this.spec = { argv: options.argv, ...(options.env && { env: options.env }) };
  }

  /** A new argv or environment, used from the next start on. */
  update(spec: ProcessSpec): void {
    this.spec = spec;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  private get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const [program, ...args] = this.spec.argv as [string, ...string[]];
    const out = this.openLog();
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        env: { PATH: process.env.PATH ?? DEFAULT_PATH, ...this.spec.env },
        stdio: ['ignore', out ?? 'ignore', out ?? 'ignore'],
        detached: true,
      });
    } finally {
      if (out !== undefined) closeSync(out);
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error: NodeJS.ErrnoException) => {
        this.lastExit = `could not start: ${error.code ?? error.message}`;
        reject(new CisternError('E_SERVICE_DRIVER', `cannot start ${this.options.name}: ${program}: ${error.code ?? error.message}`, {
          hint: 'check the argv the controller sent: the program must exist on this box', cause: error,
        }));
      });
    });
    this.child = child;
    this.startedAt = Date.now();
    this.lastExit = undefined;
  }

  async stop(): Promise<void> {
    if (!this.running || !this.child?.pid) return;
    const group = -this.child.pid;
    this.signal(group, 'SIGTERM');
    if (await this.waitExit(this.options.stopTimeoutMs ?? 10_000)) return;
    this.signal(group, 'SIGKILL');
    if (await this.waitExit(5_000)) return;
    throw new CisternError('E_SERVICE_DRIVER', `${this.options.name} (pid ${this.child.pid}) did not exit after SIGKILL`);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async status(): Promise<DriverStatus> {
    if (this.running) return { running: true, uptimeSeconds: (Date.now() - this.startedAt) / 1000, detail: `pid ${this.child?.pid}` };
    return { running: false, detail: this.lastExit ?? 'not started' };
  }

  private signal(target: number, signal: NodeJS.Signals): void {
    try { process.kill(target, signal); } catch { /* already gone */ }
  }

  private async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    try {
      return await Promise.race([this.exited.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private openLog(): number | undefined {
    if (!this.options.logFile) return undefined;
    try {
      mkdirSync(dirname(this.options.logFile), { recursive: true, mode: 0o700 });
      return openSync(this.options.logFile, 'a', 0o600);
    } catch {
      return undefined; // a service without a log still runs
    }
  }
}
