/**
 * Collects the facts about this box: the I/O shell around the pure buildFacts. Never throws:
 * each systeminformation call runs with a deadline, and a failed or late source becomes a gap
 * in otherwise valid facts, because an agent with half its facts is still worth registering.
 */
import { cpus, hostname, machine, networkInterfaces, totalmem } from 'node:os';
import { buildFacts, type NodeView, type SiResults } from './facts-build.js';
import type { Facts } from './facts-schema.js';
import { probeLinux, type LinuxProbe } from './linux-probe.js';
import { SI_CALLS, siInWorker, type SiRunner } from './si-worker.js';

export { factsSchema, type Facts } from './facts-schema.js';

export interface CollectOptions {
  /** Prefix for the Linux paths read directly (/proc, /sys, /dev, /etc); default '/'. */
  root?: string;
  /** Deadline for each systeminformation call; they run in parallel. Default 10 s. */
  timeoutMs?: number;
  /** Replaces the worker-thread runner, for tests. */
  runner?: SiRunner;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export async function collectFacts(options: CollectOptions = {}): Promise<Facts> {
  const gaps: string[] = [];
  const [{ results, gaps: siGaps }, linux] = await Promise.all([
    gatherSystemInfo(options.runner ?? siInWorker, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    probeLinux(options.root ?? '/').catch((error: unknown) => {
      gaps.push(`linux: ${error instanceof Error ? error.message : String(error)}`);
      return NO_PROBE;
    }),
  ]);
  return buildFacts({ si: results, linux, node: nodeView(), collectedAt: new Date(), gaps: [...gaps, ...siGaps].sort() });
}

/** Runs every call with its deadline; a failure is recorded as "call: reason", never thrown. */
export async function gatherSystemInfo(runner: SiRunner, timeoutMs: number): Promise<{ results: SiResults; gaps: string[] }> {
  const results: Record<string, unknown> = {};
  const gaps: string[] = [];
  await Promise.all(
    SI_CALLS.map(async (call) => {
      try {
        // The runner enforces the deadline; this race is the backstop for a runner that does not.
        results[call] = await withDeadline(Promise.resolve().then(() => runner(call, timeoutMs)), timeoutMs + 250);
      } catch (error) {
        gaps.push(`${call}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  );
  // The shapes are systeminformation's own, passed through structured clone unchanged.
  return { results: results as SiResults, gaps };
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const NO_PROBE: LinuxProbe = { osRelease: null, deviceTreeModel: null, renderNodes: [], nvidiaDriver: false, blocks: [] };

// Some sandboxes make os.networkInterfaces() throw (uv_interface_addresses); an empty answer is a fallback.
function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function nodeView(): NodeView {
  return {
    hostname: safely(hostname, ''),
    machine: safely(machine, ''),
    totalmem: safely(totalmem, 0),
    cpus: safely(cpus, []),
    interfaces: safely(networkInterfaces, {}),
  };
}
