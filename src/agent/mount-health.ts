/**
 * Mount health on the agent's box: for every network mount and every path the controller asks
 * for (the media root), is it mounted, does it answer, is its handle stale, how much space is
 * free.
 *
 * The probe never touches a mount from the agent's own process. A hard NFS mount whose server
 * is gone blocks stat(2) for ever, and Node runs fs calls on its small shared thread pool: a few
 * hung calls would stall every file operation of the agent. So each round runs stat and then
 * statfs on all paths in one short-lived child process (statfs, unlike stat, is not answered
 * from the client's attribute cache, so it reaches the server), reads one JSON line per path,
 * and kills the child after the time limit; a path without an answer by then is `timeout`.
 * While a killed child has not exited (a task stuck in the kernel), no new one is started and
 * its paths stay `timeout`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { MountHealth } from '../protocol/messages.js';
import type { Logger } from '../util/logger.js';
import { classifyMount, mountFor, parseMountinfo, watchList, type ProbeOutcome } from './mountinfo.js';

// Plain CommonJS for `node -e`; argv after the script are the paths. One line per path as it answers.
const CHILD = `
const fs = require('node:fs');
const out = (i, r) => process.stdout.write(JSON.stringify({ i, ...r }) + '\\n');
const fail = (i, e) => out(i, { kind: 'error', code: e.code || 'EUNKNOWN', message: String(e.message).slice(0, 300) });
process.argv.slice(1).forEach((path, i) => {
  fs.stat(path, (error) => {
    if (error) return fail(i, error);
    fs.statfs(path, (error2, s) => {
      if (error2) return fail(i, error2);
      out(i, { kind: 'ok', freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize });
    });
  });
});
`;

export interface ProbeOptions {
  timeoutMs?: number;
  /** Reads /proc/self/mountinfo; replaced in tests. */
  readMountinfo?: () => Promise<string>;
  /** Runs the stat/statfs child; replaced in tests to inject errors. */
  runProbe?: (paths: readonly string[], timeoutMs: number) => Promise<ProbeOutcome[]>;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
let stuck: ChildProcess | undefined;

export const readSelfMountinfo = (): Promise<string> => readFile('/proc/self/mountinfo', 'utf8');

/** Runs the child probe on `paths`; each result is an answer, or `timeout` when none came in time. */
export function runChildProbe(paths: readonly string[], timeoutMs: number): Promise<ProbeOutcome[]> {
  const results: (ProbeOutcome | undefined)[] = paths.map(() => undefined);
  if (paths.length === 0) return Promise.resolve([]);
  if (stuck && stuck.exitCode === null && stuck.signalCode === null) {
    return Promise.resolve(paths.map(() => ({ kind: 'timeout', afterMs: timeoutMs, detail: 'an earlier probe is still stuck in the kernel: the mount does not answer' })));
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', CHILD, ...paths], {
      stdio: ['ignore', 'pipe', 'ignore'],
      // One thread per path, so one hung mount cannot keep the others from answering.
      env: { PATH: process.env.PATH ?? '', UV_THREADPOOL_SIZE: String(Math.min(128, Math.max(4, paths.length + 2))) },
    });
    let buffer = '';
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Every path answered: the child exits by itself. Out of time: a path still hangs in it.
      if (timedOut && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        stuck = child;
        child.stdout?.destroy();
      }
      resolve(results.map((r) => r ?? { kind: 'timeout', afterMs: timeoutMs }));
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const parsed = parseLine(line);
        if (parsed && parsed.i < results.length) results[parsed.i] = parsed.outcome;
      }
      if (results.every((r) => r !== undefined)) finish(false);
    });
    child.once('error', (error) => {
      for (let i = 0; i < results.length; i++) results[i] ??= { kind: 'error', code: 'EPROBE', message: `could not start the probe: ${error.message}` };
      finish(false);
    });
    child.once('close', (code, signal) => {
      for (let i = 0; i < results.length; i++) results[i] ??= { kind: 'error', code: 'EPROBE', message: `the probe exited (${signal ?? `code ${code}`}) without an answer` };
      finish(false);
    });
  });
}

function parseLine(line: string): { i: number; outcome: ProbeOutcome } | undefined {
  try {
    const value = JSON.parse(line) as { i?: unknown; kind?: unknown; code?: unknown; message?: unknown; freeBytes?: unknown; totalBytes?: unknown };
    if (typeof value.i !== 'number') return undefined;
    if (value.kind === 'ok' && typeof value.freeBytes === 'number' && typeof value.totalBytes === 'number') {
      return { i: value.i, outcome: { kind: 'ok', freeBytes: value.freeBytes, totalBytes: value.totalBytes } };
    }
    if (value.kind === 'error') return { i: value.i, outcome: { kind: 'error', code: String(value.code), message: String(value.message) } };
  } catch {
    // a torn line from a killed child
  }
  return undefined;
}

/** One round: which paths to watch, the probe, then mountinfo again (a probe can trigger an automount). */
export async function probeMounts(asked: readonly string[], options: ProbeOptions = {}): Promise<MountHealth[]> {
  const read = options.readMountinfo ?? readSelfMountinfo;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const paths = watchList(parseMountinfo(await read()), asked);
  const outcomes = await (options.runProbe ?? runChildProbe)(paths, timeoutMs);
  const after = parseMountinfo(await read());
  const now = (options.now ?? Date.now)();
  return paths.map((path, i) => classifyMount(path, mountFor(after, path), outcomes[i] ?? { kind: 'timeout', afterMs: timeoutMs }, now));
}

export interface MountMonitor {
  /** The last round's results; undefined until the first round is done. */
  latest(): MountHealth[] | undefined;
  /** The paths the controller asks for; a change starts a round at once. */
  watch(paths: readonly string[]): void;
  start(): void;
  stop(): void;
  /** Runs a round now (tests, and the first heartbeat). */
  refresh(): Promise<MountHealth[]>;
}

export function mountMonitor(options: ProbeOptions & { intervalMs?: number; logger?: Logger } = {}): MountMonitor {
  let asked: string[] = [];
  let latest: MountHealth[] | undefined;
  let running: Promise<MountHealth[]> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const refresh = (): Promise<MountHealth[]> => {
    running ??= probeMounts(asked, options)
      .then((results) => {
        for (const r of results) if (!r.healthy && latest?.find((l) => l.path === r.path)?.state !== r.state) options.logger?.warn({ path: r.path, state: r.state, detail: r.detail }, 'mount unhealthy');
        latest = results;
        return results;
      })
      .catch((error: unknown) => {
        options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'mount probe failed');
        return latest ?? [];
      })
      .finally(() => { running = undefined; });
    return running;
  };
  return {
    latest: () => latest,
    watch(paths) {
      const next = [...new Set(paths)].sort();
      if (next.join('\0') === asked.join('\0')) return;
      asked = next;
      void refresh();
    },
    start() {
      clearInterval(timer);
      void refresh();
      timer = setInterval(() => void refresh(), options.intervalMs ?? 15_000);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
    refresh,
  };
}
