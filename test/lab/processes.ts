/**
 * A long-running process inside a lab host: started with `ip netns exec` (which execs the
 * command, so the child's pid is the process itself and signals reach it directly), with
 * stdout and stderr in a log file rather than a pipe, so a lab kept for a person (`keep`) can
 * outlive the process that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { processState } from '../../src/testing/process-state.js';

export { processState };

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Own process group and unref'd: the process outlives this one (for `npm run lab -- up`). */
  detached?: boolean;
}

export interface LabProcessOptions extends SpawnOptions {
  /** The lab host's name (h1…) and namespace. */
  host: string;
  namespace: string;
  /** What the lab calls it: sshd, transmission, jellyfin…, controller, agent. */
  name: string;
  /** Receives stdout and stderr. */
  logFile: string;
  command: string;
  args: readonly string[];
}

export class LabProcess {
  readonly host: string;
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  private readonly logStart: number;
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  constructor(options: LabProcessOptions) {
    ({ host: this.host, name: this.name, logFile: this.logFile } = options);
    const fd = openSync(options.logFile, 'a');
    // A service started again appends to its log: this process's output starts here.
    this.logStart = fstatSync(fd).size;
    try {
      this.child = spawn('ip', ['netns', 'exec', options.namespace, options.command, ...options.args], {
        stdio: ['ignore', fd, fd],
        env: options.env ?? process.env,
        detached: options.detached ?? false,
      });
    } finally {
      closeSync(fd);
    }
    if (this.child.pid === undefined) throw new Error(`cannot start ${this.name} on ${this.host}: spawn failed`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.child.once('error', () => { /* reported through 'exit' and the log */ });
    if (options.detached) this.child.unref();
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** What this process has written to its log so far (not what an earlier process of the same name wrote). */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile).subarray(this.logStart).toString('utf8') : '';
  }

  describe(): string {
    const state = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : `running, pid ${this.pid}`;
    return `${this.name} on ${this.host} [${state}], log ${this.logFile}:\n${this.log().slice(-3_000)}`;
  }

  /** Resolves with the first match of `pattern` in the log; rejects if the process exits first or time runs out. */
  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.log());
      if (match) return match;
      if (!this.running) throw new Error(`${this.name} on ${this.host} exited before logging ${String(pattern)}\n${this.describe()}`);
      if (Date.now() >= deadline) throw new Error(`${this.name} on ${this.host} did not log ${String(pattern)} in ${timeoutMs} ms\n${this.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`${this.name} on ${this.host} is not running (${JSON.stringify(this.exit)})`);
    process.kill(this.pid, signal);
  }

  /** SIGKILL (a frozen process dies too) and wait for the exit, bounded. */
  async kill(timeoutMs = 5_000): Promise<Exit> {
    if (this.exit) return this.exit;
    try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} on ${this.host} (pid ${this.pid}) did not die in ${timeoutMs} ms after SIGKILL`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

