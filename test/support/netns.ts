/**
 * A throwaway network namespace with nothing but loopback, for system tests whose traffic must
 * never leave the machine: a process inside can reach 127.0.0.1 and nothing else, so even a DNS
 * query to the machine's resolver fails at once with "network unreachable" instead of being sent.
 *
 * Made with `ip netns add` (a named namespace that many processes can join one after another)
 * rather than `nsenter --net=/proc/PID/ns/net`: under gVisor (the sandbox these machines run in)
 * that nsenter silently joins the *host* namespace. Since such a mistake would be silent,
 * `createNetworkNamespace` checks from inside that loopback is the only interface.
 *
 * Needs root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { run, runOk, type RunOptions, type RunResult } from './process.js';

export interface NetworkNamespace {
  readonly name: string;
  /** Runs a command inside the namespace to completion. */
  exec(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running command inside the namespace; the caller stops it. */
  spawn(command: string, args: readonly string[]): ChildProcess;
  /** Names of the namespace's network interfaces. */
  interfaces(): Promise<string[]>;
  /** The namespace's own IP/UDP/TCP counters from /proc/net/snmp, keyed like "Udp.OutDatagrams". */
  counters(): Promise<Map<string, number>>;
  /** Deletes the namespace; safe to call twice. */
  remove(): Promise<void>;
}

/** Parses /proc/net/snmp: pairs of lines, "Proto: Name1 Name2 ..." then "Proto: 1 2 ...". */
export function parseSnmp(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  const lines = text.trim().split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [proto, ...names] = (lines[i] ?? '').split(/\s+/);
    const values = (lines[i + 1] ?? '').split(/\s+/).slice(1);
    names.forEach((name, j) => counters.set(`${(proto ?? '').replace(/:$/, '')}.${name}`, Number(values[j])));
  }
  return counters;
}

export async function createNetworkNamespace(): Promise<NetworkNamespace> {
  const name = `cistern-test-${randomBytes(4).toString('hex')}`;
  const inside = (command: string, args: readonly string[]) => ['netns', 'exec', name, command, ...args];
  let removed = false;

  // Safety net for a test process that exits without running afterAll: a named namespace
  // would otherwise outlive it. Synchronous, because 'exit' handlers cannot await.
  const removeOnExit = () => { spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 5_000 }); };

  const ns: NetworkNamespace = {
    name,
    exec: (command, args, options) => run('ip', inside(command, args), options),
    spawn: (command, args) => spawn('ip', inside(command, args), { stdio: ['ignore', 'pipe', 'pipe'] }),
    async interfaces() {
      const { stdout } = await runOk('ip', inside('ip', ['-o', 'link', 'show']));
      return stdout.split('\n').filter(Boolean).map((line) => (line.split(':')[1] ?? '').trim().replace(/@.*$/, ''));
    },
    async counters() {
      // /proc/net is per network namespace: read from inside, it shows the namespace's counters.
      return parseSnmp((await runOk('ip', inside('cat', ['/proc/net/snmp']))).stdout);
    },
    async remove() {
      if (removed) return;
      removed = true;
      process.removeListener('exit', removeOnExit);
      await runOk('ip', ['netns', 'delete', name], { timeoutMs: 10_000 });
    },
  };

  await runOk('ip', ['netns', 'add', name], { timeoutMs: 10_000 });
  process.once('exit', removeOnExit);
  try {
    // A new namespace's loopback is down: nothing, not even 127.0.0.1, answers until it is up.
    await runOk('ip', inside('ip', ['link', 'set', 'lo', 'up']));
    const interfaces = await ns.interfaces();
    if (interfaces.join(',') !== 'lo') {
      throw new Error(`network namespace ${name} should hold only loopback but has: ${interfaces.join(', ')}`);
    }
    return ns;
  } catch (error) {
    await ns.remove();
    throw error;
  }
}
