/**
 * The shared-storage plan: which server exports the media root over NFSv4, which servers mount
 * it and where, the NixOS and `/etc/exports` text for each, and every conflict found on the way.
 * Pure: an inventory value in, a plan out; `cistern storage plan` prints it.
 *
 * - The exporter is `storage.media_server` when given, else the one server whose storage list
 *   holds the media root (a disk mounted at it or above it). None, or several, is an error.
 * - Every other server that runs a service with `needs.media` (named on the server, or pinned
 *   to it as primary or replica) mounts the export at the media root itself, so the paths the
 *   apps keep in their databases are the same on every box and a failover finds its files.
 * - The export lets in only those clients' addresses, or the fleet's subnet with
 *   `storage.export_to: subnet`.
 */
import type { Inventory } from '../inventory/schema.js';
import { checkBackups, checkStateDirs } from './checks.js';
import { localHolder, readFleet, type FleetServer, type StorageFleet } from './fleet.js';
import { CROSSMNT, EXPORT_OPTIONS, mountOptions } from './options.js';
import { inSubnet, ipOf, isWithin, nfsDevice, normalizePath, serverAddress } from './paths.js';
import { exportsLine, nixModule } from './render.js';
import type { NfsExport, NfsMount, StorageConflict, StoragePlan } from './types.js';

export function storagePlan(inventory: Inventory): StoragePlan {
  const fleet = readFleet(inventory);
  const conflicts: StorageConflict[] = [];
  const mediaRoot = readMediaRoot(inventory, conflicts);
  const exporter = mediaRoot === undefined ? undefined : chooseExporter(inventory, fleet, mediaRoot, conflicts);

  const exports: NfsExport[] = [];
  const mounts: NfsMount[] = [];
  if (mediaRoot !== undefined && exporter) {
    const media = new Set(fleet.services.filter((s) => s.needs.media === true).map((s) => s.name));
    const clients = fleet.servers.filter((s) => s !== exporter && [...s.runs].some((name) => media.has(name)));
    const device = nfsDevice(serverAddress(exporter.server), mediaRoot);
    for (const client of clients) {
      checkCollision(client, { mediaRoot, device, from: `${exporter.name}:${mediaRoot}` }, conflicts);
      mounts.push({ server: client.name, from: `${exporter.name}:${mediaRoot}`, device, at: mediaRoot, options: mountOptions() });
    }
    if (clients.length > 0) {
      exports.push({
        server: exporter.name,
        path: mediaRoot,
        clients: clients.map((c) => c.name),
        allow: allowList(inventory, clients, conflicts),
        options: exportOptions(exporter, mediaRoot),
      });
    }
  }

  conflicts.push(...checkStateDirs(fleet, mediaRoot), ...checkBackups(inventory, fleet, mediaRoot === undefined ? undefined : { root: mediaRoot, server: exporter?.name }));

  const nixos: Record<string, string> = {};
  const exportsLines: Record<string, string[]> = {};
  for (const { name } of fleet.servers) {
    const own = { exports: exports.filter((e) => e.server === name), mounts: mounts.filter((m) => m.server === name) };
    if (own.exports.length > 0) exportsLines[name] = own.exports.map(exportsLine);
    if (own.exports.length > 0 || own.mounts.length > 0) nixos[name] = nixModule(name, own);
  }
  return { mediaRoot: mediaRoot ?? null, mediaServer: exporter?.name ?? null, exports, mounts, nixos, exportsLines, conflicts };
}

function readMediaRoot(inventory: Inventory, conflicts: StorageConflict[]): string | undefined {
  const raw = inventory.storage?.media_root;
  if (raw === undefined) return undefined;
  const root = normalizePath(raw);
  if (root === undefined || root === '/' || [...raw].some((c) => c.charCodeAt(0) < 0x20)) {
    conflicts.push({
      severity: 'error', code: 'media-root-invalid', field: ['storage', 'media_root'], path: raw,
      message: `media root ${JSON.stringify(raw)} is not an absolute directory path below /`,
      hint: 'write the path the library is mounted at, like /mnt/media',
    });
    return undefined;
  }
  return root;
}

/**
 * A disk mounted at the media root claims it; a disk mounted above it (`/srv` for `/srv/media`)
 * claims it only when no server has one mounted at it, since many boxes have a data disk at
 * `/srv` or `/mnt` without holding the library.
 */
function holdersOf(fleet: StorageFleet, mediaRoot: string): FleetServer[] {
  const exact = fleet.servers.filter((s) => localHolder(s, mediaRoot)?.mount === mediaRoot);
  return exact.length > 0 ? exact : fleet.servers.filter((s) => localHolder(s, mediaRoot) !== undefined);
}

function chooseExporter(inventory: Inventory, fleet: StorageFleet, mediaRoot: string, conflicts: StorageConflict[]): FleetServer | undefined {
  const holders = holdersOf(fleet, mediaRoot);
  const named = inventory.storage?.media_server;
  if (named !== undefined) {
    const server = fleet.byName.get(named);
    if (!server) {
      conflicts.push({
        severity: 'error', code: 'unknown-media-server', field: ['storage', 'media_server'],
        message: `media_server "${named}" is not a server`,
        hint: holders.length > 0 ? `servers whose storage holds ${mediaRoot}: ${holders.map((s) => s.name).join(', ')}` : 'name a server under servers:',
      });
      return undefined;
    }
    if (localHolder(server, mediaRoot) === undefined) {
      conflicts.push({
        severity: 'warning', code: 'media-server-without-storage', server: named, path: mediaRoot, field: ['storage', 'media_server'],
        message: `no storage entry of ${named} holds the media root ${mediaRoot}: it will be exported from whatever filesystem holds it there`,
        hint: `add the library's disk to servers.${named}.storage`,
      });
    }
    return server;
  }
  if (holders.length === 1) return holders[0];
  if (holders.length === 0) {
    conflicts.push({
      severity: 'error', code: 'media-root-on-no-server', path: mediaRoot, field: ['storage', 'media_root'],
      message: `the media root ${mediaRoot} is on no server: no storage entry is mounted at it or above it`,
      hint: 'add the library\'s disk to the storage list of the server that holds it, or set storage.media_server',
    });
    return undefined;
  }
  conflicts.push({
    severity: 'error', code: 'media-root-claimed-twice', path: mediaRoot, field: ['storage', 'media_root'],
    message: `the media root ${mediaRoot} is on the storage of ${holders.map((s) => s.name).join(' and ')}; only one server can hold the fleet's library`,
    hint: 'set storage.media_server to the server that holds the library',
  });
  return undefined;
}

/** A client's own storage at or below the mount point would hide the export, or be hidden by it. */
function checkCollision(client: FleetServer, planned: { mediaRoot: string; device: string; from: string }, conflicts: StorageConflict[]): void {
  for (const entry of client.storage) {
    if (!isWithin(entry.mount, planned.mediaRoot)) continue;
    // The same NFS mount written by hand into the storage list is not a collision.
    if (entry.network && (entry.device === planned.device || entry.device === planned.from)) continue;
    const where = entry.mount === planned.mediaRoot ? `at ${entry.mount}` : `at ${entry.mount}, below the mount point`;
    conflicts.push({
      severity: 'error', code: 'mount-collides-with-storage', server: client.name, path: entry.mount,
      field: ['servers', client.name, 'storage', entry.index, 'mount'],
      message: `${client.name} must mount ${planned.from} at ${planned.mediaRoot}, but its own storage ${entry.device} is mounted ${where}`,
      hint: `move ${client.name}'s disk to another mount point, or make ${client.name} the media_server`,
    });
  }
}

function allowList(inventory: Inventory, clients: readonly FleetServer[], conflicts: StorageConflict[]): string[] {
  const subnet = inventory.network?.subnet;
  if (inventory.storage?.export_to === 'subnet') {
    if (subnet !== undefined) return [subnet];
    conflicts.push({
      severity: 'error', code: 'export-to-subnet-without-subnet', field: ['storage', 'export_to'],
      message: 'export_to is subnet but network.subnet is not set; exporting to each client\'s address instead',
      hint: 'set network.subnet, or remove export_to',
    });
  }
  const allow: string[] = [];
  for (const client of clients) {
    const address = serverAddress(client.server);
    const ip = ipOf(address);
    const host = ip ? ip.toString() : address.toLowerCase();
    if (!allow.includes(host)) allow.push(host);
    if (inSubnet(address, subnet) === false) {
      conflicts.push({
        severity: 'warning', code: 'client-outside-subnet', server: client.name,
        field: ['servers', client.name, client.server.address !== undefined ? 'address' : 'hostname'],
        message: `${client.name} (${address}) is outside network.subnet ${subnet}: its NFS traffic crosses routers`,
        hint: 'fine over a VPN such as Tailscale or WireGuard; NFS with sec=sys must never cross the open Internet',
      });
    }
  }
  return allow;
}

function exportOptions(exporter: FleetServer, mediaRoot: string): string[] {
  const options = EXPORT_OPTIONS.map((c) => c.option);
  if (exporter.storage.some((e) => !e.network && e.mount !== mediaRoot && isWithin(e.mount, mediaRoot))) options.push(CROSSMNT.option);
  const holder = localHolder(exporter, mediaRoot);
  if (holder && isPoolDevice(holder.device)) options.push(`fsid=${fsid(mediaRoot)}`);
  return options;
}

/** mergerfs and other FUSE pools: `mergerfs`, `/mnt/disk*`, `/mnt/disk1:/mnt/disk2`. */
function isPoolDevice(device: string): boolean {
  return /^(mergerfs|fuse)/i.test(device) || device.includes('*') || /^\/[^:]*:\//.test(device);
}

/** A stable, non-zero 31-bit number from the path (fsid=0 would mean the NFSv4 pseudo-root). */
export function fsid(path: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(path)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return (hash & 0x7fffffff) || 1;
}
