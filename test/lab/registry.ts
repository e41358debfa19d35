/**
 * Which labs exist, who owns them, and tearing them down when their owner cannot.
 *
 * Each lab has a folder /tmp/cistern-lab/NAME with `lab.json` (its owner's pid and that pid's
 * start time, so a reused pid is not mistaken for the owner), written before any namespace is
 * made. A lab whose owner is gone is stale: `cleanupStale` kills its processes and removes its
 * namespaces and folder. Namespaces named like a lab's but without a folder are stale too.
 *
 * Labs of this process are torn down synchronously when it exits, and on SIGINT, SIGTERM and
 * SIGHUP (Ctrl-C, a killed CI job, a closed terminal); a kept lab (`npm run lab -- up`) is not,
 * and `cleanupStale` leaves it alone unless asked by name.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNamespaces, deleteNamespacesSync, emptyNamespaces, killNamespacePidsSync, listNamespaces, NAMESPACE_PREFIX, parseNamespace } from './network.js';

export const LAB_ROOT = join(tmpdir(), 'cistern-lab');

export interface LabMarker {
  name: string;
  pid: number;
  /** Field 22 of /proc/PID/stat, in clock ticks since boot: tells the owner from a later process with its pid. */
  pidStart: string;
  keep: boolean;
  hosts: number;
  created: string;
}

export function labDir(name: string): string {
  return join(LAB_ROOT, name);
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function readMarker(name: string): LabMarker | undefined {
  try {
    return JSON.parse(readFileSync(join(labDir(name), 'lab.json'), 'utf8')) as LabMarker;
  } catch {
    return undefined;
  }
}

/** Makes the lab's folder and claims it for this process. */
export function claimLab(name: string, options: { keep: boolean; hosts: number }): string {
  const dir = labDir(name);
  mkdirSync(LAB_ROOT, { recursive: true, mode: 0o755 });
  mkdirSync(dir, { mode: 0o700 });
  const marker: LabMarker = { name, pid: process.pid, pidStart: startTime(process.pid) ?? '', keep: options.keep, hosts: options.hosts, created: new Date().toISOString() };
  writeFileSync(join(dir, 'lab.json'), `${JSON.stringify(marker, null, 2)}\n`);
  return dir;
}

export function ownerAlive(marker: LabMarker): boolean {
  return startTime(marker.pid) === marker.pidStart;
}

/** Every lab name that has a namespace or a folder, with its namespaces. */
export async function findLabs(): Promise<Map<string, string[]>> {
  const labs = new Map<string, string[]>();
  for (const namespace of await listNamespaces()) {
    const parsed = namespace.startsWith(NAMESPACE_PREFIX) ? parseNamespace(namespace) : undefined;
    if (parsed) labs.set(parsed.lab, [...(labs.get(parsed.lab) ?? []), namespace]);
  }
  if (existsSync(LAB_ROOT)) {
    for (const entry of readdirSync(LAB_ROOT)) if (!labs.has(entry)) labs.set(entry, []);
  }
  return labs;
}

/** Kills every process in the lab's namespaces, deletes them and the lab's folder. */
export async function removeLab(name: string, namespaces: readonly string[]): Promise<void> {
  await emptyNamespaces(namespaces);
  await deleteNamespaces(namespaces);
  rmSync(labDir(name), { recursive: true, force: true });
}

export interface CleanupOptions {
  /** Only this lab; it is removed even when kept (for `npm run lab -- down`), but never while its owner runs a scenario. */
  name?: string;
  /** Also remove kept labs (those of `npm run lab -- up`). */
  includeKept?: boolean;
}

/**
 * Removes the leftovers of labs whose owner is gone (a run that was SIGKILLed, say); labs of a
 * live owner are left alone. Returns the names of the labs it removed.
 */
export async function cleanupStale(options: CleanupOptions = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const [name, namespaces] of await findLabs()) {
    if (options.name !== undefined && name !== options.name) continue;
    const marker = readMarker(name);
    if (marker && ownerAlive(marker) && !marker.keep) {
      if (options.name !== undefined) throw new Error(`lab ${name} is in use by process ${marker.pid}`);
      continue;
    }
    if (marker?.keep && options.name === undefined && !options.includeKept) continue;
    await removeLab(name, namespaces);
    removed.push(name);
  }
  return removed;
}

/** A lab of this process, as the exit and signal handlers see it. */
export interface LiveLab {
  name: string;
  /** Synchronous: kills the lab's processes, deletes its namespaces and folder. */
  teardownSync(): void;
}

const live = new Set<LiveLab>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function teardownAll(): void {
  for (const lab of [...live]) {
    try { lab.teardownSync(); } catch { /* keep going: the others must go too */ }
    live.delete(lab);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\ncistern lab: ${signal}: tearing down ${[...live].map((l) => l.name).join(', ')}\n`);
  teardownAll();
  uninstall();
  // Die of the signal as if nobody had listened, unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  process.on('exit', teardownAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.removeListener('exit', teardownAll);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

export function registerLive(lab: LiveLab): void {
  if (live.size === 0) install();
  live.add(lab);
}

export function unregisterLive(lab: LiveLab): void {
  if (!live.delete(lab)) return;
  if (live.size === 0) uninstall();
}

/** The synchronous teardown of a lab's namespaces and folder, for exit and signal handlers. */
export function teardownNamespacesSync(name: string, namespaces: readonly string[]): void {
  killNamespacePidsSync(namespaces);
  deleteNamespacesSync(namespaces);
  rmSync(labDir(name), { recursive: true, force: true });
}
