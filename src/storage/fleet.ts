/**
 * The inventory as the storage plan reads it: servers in name order with their normalized storage
 * entries, and which services each server runs. Pure.
 */
import { serverEntries } from '../inventory/groups.js';
import type { Inventory, Server } from '../inventory/schema.js';
import { resolveServices, type ResolvedService } from '../services/resolve.js';
import { isNetworkDevice, isWithin, normalizePath } from './paths.js';

export interface StorageEntry {
  index: number;
  device: string;
  /** Normalized mount point. */
  mount: string;
  network: boolean;
}

export interface FleetServer {
  name: string;
  server: Server;
  storage: StorageEntry[];
  /** Services named on the server or pinned to it (primary or replica) under `services:`. */
  runs: Set<string>;
}

export interface StorageFleet {
  servers: FleetServer[];
  byName: Map<string, FleetServer>;
  services: ResolvedService[];
}

export function readFleet(inventory: Inventory): StorageFleet {
  const servers = serverEntries(inventory)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, server]): FleetServer => ({
      name,
      server,
      storage: (server.storage ?? []).flatMap((entry, index) => {
        const mount = normalizePath(entry.mount);
        return mount === undefined ? [] : [{ index, device: entry.device, mount, network: isNetworkDevice(entry.device) }];
      }),
      runs: new Set(server.services ?? []),
    }));
  const byName = new Map(servers.map((s) => [s.name, s]));
  for (const [service, entry] of Object.entries(inventory.services ?? {})) {
    if (!entry) continue;
    const pinned = [entry.primary, ...(Array.isArray(entry.replicas) ? entry.replicas : [])];
    for (const name of pinned) if (name !== undefined) byName.get(name)?.runs.add(service);
  }
  return { servers, byName, services: resolveServices(inventory) };
}

/**
 * The deepest local (not network) storage entry whose mount holds `path`. A disk listed at `/`
 * holds everything, so it does not count: which box owns a library on a system disk is for
 * `storage.media_server` to say.
 */
export function localHolder(server: FleetServer, path: string): StorageEntry | undefined {
  let best: StorageEntry | undefined;
  for (const entry of server.storage) {
    if (entry.network || entry.mount === '/' || !isWithin(path, entry.mount)) continue;
    if (!best || entry.mount.length > best.mount.length) best = entry;
  }
  return best;
}
