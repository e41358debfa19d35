/**
 * The controller's side of inventory.yaml. It owns each server's `status:` block and writes it
 * on health transitions and fact changes only — batched, comment-preserving, atomic, under the
 * same lock as `cistern inventory` edits. New agents that the file does not know are added under
 * a unique name. Hand edits are watched, validated and applied live; an invalid edit is logged
 * with its line and refused, and the last good version stays in force.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import ipaddr from 'ipaddr.js';
import { factsSchema, type Facts } from '../agent/facts-schema.js';
import { detectProfile } from '../agent/profile.js';
import { CisternError } from '../errors.js';
import { analyze, type Analysis } from '../inventory/analyze.js';
import { formatFinding } from '../inventory/findings.js';
import { serverEntries } from '../inventory/groups.js';
import { editInventory } from '../inventory/store.js';
import type { Logger } from '../util/logger.js';
import type { InventoryBinding } from './core.js';

type Status = Record<string, unknown>;
interface Change { status: Status; add?: Record<string, unknown> }
type RawServers = Record<string, Record<string, unknown>>;

/**
 * The top-level fields of an agent's facts that match the schema; the rest are left out. Facts
 * arrive as the agent sent them, and one malformed field must not lose the others.
 */
function wellFormedFields(facts: Record<string, unknown>): Partial<Facts> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(factsSchema.shape)) {
    const field = schema.safeParse(facts[key]);
    if (field.success) out[key] = field.data;
  }
  return out as Partial<Facts>;
}

/** The facts written to the inventory: what changes with the hardware, not with the load. */
export function factsSummary(facts: Record<string, unknown>): Record<string, unknown> {
  const f = wellFormedFields(facts);
  const gib = (bytes: number | null | undefined) => (bytes === undefined || bytes === null ? undefined : Math.round((bytes / 2 ** 30) * 10) / 10);
  let profile: ReturnType<typeof detectProfile> | undefined;
  try { profile = detectProfile(f as Facts); } catch { profile = undefined; }
  return JSON.parse(JSON.stringify({
    cpu: f.cpu?.model, cores: f.cpu?.cores, threads: f.cpu?.threads, architecture: f.architecture,
    memory_gb: gib(f.memory?.totalBytes),
    os: f.os ? `${f.os.name} ${f.os.version ?? ''}`.trim() : undefined, nixos: f.os?.nixosVersion ?? undefined,
    model: f.deviceModel ?? undefined,
    gpus: f.gpus?.map((g) => g.model),
    disks: f.disks?.map((d) => ({ mount: d.mount, size_gb: gib(d.sizeBytes), rotational: d.rotational })),
    profile: profile?.profile, profile_reason: profile?.reason, storage_heavy: profile?.storageHeavy,
  })) as Record<string, unknown>;
}

export interface InventorySyncOptions { file: string; logger: Logger; debounceMs?: number }

export class InventorySync implements InventoryBinding {
  private current: Analysis | undefined;
  private readonly pending = new Map<string, Change>();
  /** The batch being written right now. */
  private inFlight = new Map<string, Change>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private lastWritten: string | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: InventorySyncOptions) {}

  async start(): Promise<void> {
    await this.reload();
    this.watcher = watch(dirname(this.options.file), (_event, name) => {
      if (name !== null && name !== basename(this.options.file)) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 100);
    });
  }

  async close(): Promise<void> {
    this.watcher?.close();
    clearTimeout(this.reloadTimer);
    clearTimeout(this.timer);
    await this.flush();
  }

  /** The last valid inventory. */
  get analysis(): Analysis | undefined {
    return this.current;
  }

  async reload(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.options.file, 'utf8');
    } catch (error) {
      this.options.logger.error({ file: this.options.file, err: (error as Error).message }, 'cannot read the inventory; keeping the last good version');
      return;
    }
    if (text === this.lastWritten && this.current) return;
    const analysis = analyze(text, this.options.file);
    if (!analysis.ok) {
      const errors = analysis.findings.filter((f) => f.severity === 'error').map(formatFinding);
      this.options.logger.error({ file: this.options.file, errors }, `inventory edit refused, the last good version stays in force: ${errors[0] ?? ''}`);
      return;
    }
    const first = this.current === undefined;
    this.current = analysis;
    if (!first) this.options.logger.info({ file: this.options.file, servers: this.names().length }, 'inventory reloaded');
    // Status changes held back while the file could not take them (an invalid hand edit): now it can.
    if (this.pending.size > 0) this.schedule();
  }

  names(): string[] {
    return this.current ? serverEntries(this.current.inventory).map(([name]) => name) : [];
  }

  server(name: string) {
    return this.current?.inventory.servers?.[name] ?? undefined;
  }

  watchPaths(): string[] {
    const root = this.current?.inventory.storage?.media_root;
    return root !== undefined && root.startsWith('/') ? [root] : [];
  }

  match(name: string, hostname: string): string | undefined {
    const servers = this.current ? serverEntries(this.current.inventory) : [];
    const short = hostname.split('.')[0]?.toLowerCase();
    return servers.find(([n]) => n === name)?.[0]
      ?? servers.find(([, s]) => s.hostname.toLowerCase() === hostname.toLowerCase() || s.hostname.split('.')[0]?.toLowerCase() === short)?.[0];
  }

  registered(name: string, info: { hostname: string; address: string | null; facts: Record<string, unknown> }): void {
    const facts = factsSummary(info.facts);
    const known = this.server(name);
    if (known) {
      if (isDeepStrictEqual(known.status?.facts, facts)) return;
      this.queue(name, { facts });
      return;
    }
    // A server already on its way into the file keeps the entry it was queued with.
    if (this.pending.get(name)?.add || this.inFlight.get(name)?.add) {
      this.queue(name, { facts });
      return;
    }
    // Host names must stay unique, also against servers queued but not written yet.
    const queued = [...this.pending.values(), ...this.inFlight.values()].flatMap((c) => (c.add ? [String(c.add.hostname).toLowerCase()] : []));
    const taken = new Set([...(this.current ? serverEntries(this.current.inventory).map(([, s]) => s.hostname.toLowerCase()) : []), ...queued]);
    const subnet = this.current?.inventory.network?.subnet;
    const inSubnet = (ip: string) => {
      if (!subnet) return true;
      try { return ipaddr.parse(ip).match(ipaddr.parseCIDR(subnet)); } catch { return false; }
    };
    const entry: Record<string, unknown> = { hostname: taken.has(info.hostname.toLowerCase()) ? name : info.hostname };
    if (info.address && inSubnet(info.address)) entry.address = info.address;
    this.queue(name, { health: 'unknown', facts }, entry);
  }

  healthChanged(name: string, health: string, at: number): void {
    this.queue(name, { health, last_seen: new Date(at).toISOString() });
  }

  private queue(name: string, status: Status, add?: Record<string, unknown>): void {
    const entry = this.pending.get(name) ?? { status: {} };
    Object.assign(entry.status, status);
    if (add) entry.add = add;
    this.pending.set(name, entry);
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.debounceMs ?? 200);
  }

  /** Writes every queued change in one edit. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = new Map(this.pending);
    this.pending.clear();
    this.inFlight = batch;
    try {
      const failed = await this.apply(batch);
      // The file is valid but some change would not be: write the others one by one, so one
      // bad entry never holds back the rest; what fails alone is logged and dropped.
      if (failed === 'change-invalid' && batch.size > 1) {
        for (const [name, change] of batch) {
          if ((await this.apply(new Map([[name, change]]))) !== undefined) this.options.logger.error({ file: this.options.file, server: name }, 'dropped a status change the inventory refuses');
        }
      } else if (failed === 'change-invalid') {
        this.options.logger.error({ file: this.options.file, servers: [...batch.keys()] }, 'dropped a status change the inventory refuses');
      } else if (failed === 'file-invalid') {
        // Keep the batch for the next write (after the next valid reload or change), under any
        // change queued since: dropping it would leave a stale status, or a new server never added.
        for (const [name, change] of batch) {
          const newer = this.pending.get(name);
          const add = newer?.add ?? change.add;
          this.pending.set(name, { status: { ...change.status, ...newer?.status }, ...(add && { add }) });
        }
      }
    } finally {
      this.inFlight = new Map();
    }
  }

  /** One edit with `batch`; says why it failed, if it did. */
  private async apply(batch: Map<string, Change>): Promise<'file-invalid' | 'change-invalid' | undefined> {
    try {
      const result = await editInventory(this.options.file, (data) => {
        const servers = (data.servers && typeof data.servers === 'object' ? data.servers : (data.servers = {})) as RawServers;
        for (const [name, change] of batch) {
          const server = servers[name] ?? (change.add ? (servers[name] = { ...change.add }) : undefined);
          if (!server) continue;
          const status = (server.status && typeof server.status === 'object' ? server.status : {}) as Status;
          server.status = { ...status, ...change.status };
        }
      });
      this.lastWritten = result.analysis.text;
      if (result.changed) this.current = result.analysis;
      return undefined;
    } catch (error) {
      const message = error instanceof CisternError ? error.message.split('\n').slice(0, 3).join(' ') : (error as Error).message;
      this.options.logger.error({ file: this.options.file, servers: [...batch.keys()] }, `could not write server status to the inventory: ${message}`);
      if (!(error instanceof CisternError) || error.code !== 'E_INVENTORY_UNCHANGED_INVALID') return 'file-invalid';
      // Refused because of this change, or because the file on disk already has errors?
      const onDisk = await readFile(this.options.file, 'utf8').then((text) => analyze(text, this.options.file).ok, () => false);
      return onDisk ? 'change-invalid' : 'file-invalid';
    }
  }
}
