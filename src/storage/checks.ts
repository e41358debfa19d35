/**
 * The storage plan's rules about data that must not live where it does: single-writer state on
 * network storage, and backups kept on the server whose data they protect. Pure.
 */
import type { FieldPath } from '../inventory/findings.js';
import type { Inventory } from '../inventory/schema.js';
import { localHolder, type FleetServer, type StorageFleet } from './fleet.js';
import { isWithin, normalizePath } from './paths.js';
import type { StorageConflict } from './types.js';

/** Where a service's state_dir is written: the inventory's override, else the catalog (reported at the service's entry). */
function stateField(inventory: Pick<StorageFleet, 'services'>, service: string): FieldPath {
  const resolved = inventory.services.find((s) => s.name === service);
  return resolved?.source === 'catalog' ? ['services', service] : ['services', service, 'state_dir'];
}

/**
 * A single-writer service (SQLite databases, Transmission's resume files) must keep its state on
 * a disk of the box it runs on. Under the media root it is shared over NFS with every client,
 * so two boxes could open the same database; under a network storage entry of a server that
 * runs it, it is on someone else's disk, where locks do not hold across boxes.
 */
export function checkStateDirs(fleet: StorageFleet, mediaRoot: string | undefined): StorageConflict[] {
  const conflicts: StorageConflict[] = [];
  for (const service of fleet.services) {
    if (!service.single_writer || service.state_dir === null) continue;
    const dir = normalizePath(service.state_dir);
    if (dir === undefined) continue;
    if (mediaRoot !== undefined && isWithin(dir, mediaRoot)) {
      conflicts.push({
        severity: 'error', code: 'state-on-network-storage', path: dir, field: stateField(fleet, service.name),
        message: `${service.name} keeps single-writer state in ${dir}, under the media root ${mediaRoot}, which is shared over NFS: two boxes could open the same database`,
        hint: 'keep state on each box\'s own disk (the catalog default under /var/lib) and let Cistern back it up',
      });
      continue;
    }
    for (const server of fleet.servers) {
      if (!server.runs.has(service.name)) continue;
      const entry = server.storage.find((e) => e.network && isWithin(dir, e.mount));
      if (!entry) continue;
      conflicts.push({
        severity: 'error', code: 'state-on-network-storage', server: server.name, path: dir, field: stateField(fleet, service.name),
        message: `${service.name} keeps single-writer state in ${dir} on ${server.name}, inside the network mount ${entry.mount} (${entry.device})`,
        hint: `move the state dir to a local disk of ${server.name}`,
      });
    }
  }
  return conflicts;
}

/** A location under `storage.backup_locations`: a path, or `{path, server}`; URLs (restic repositories elsewhere) are off the fleet. */
function readLocation(location: unknown): { path: string; server?: string } | undefined {
  if (typeof location === 'string') {
    const path = normalizePath(location);
    return path === undefined ? undefined : { path };
  }
  if (location === null || typeof location !== 'object') return undefined;
  const record = location as Record<string, unknown>;
  const path = typeof record.path === 'string' ? normalizePath(record.path) : undefined;
  if (path === undefined) return undefined;
  return typeof record.server === 'string' ? { path, server: record.server } : { path };
}

/** What a server holds that a backup protects: the state of its services and, on the exporter, the media library. */
function dataOn(server: FleetServer, fleet: StorageFleet, media: { root: string; server: string | undefined } | undefined): string[] {
  const data = fleet.services.filter((s) => s.state_dir !== null && server.runs.has(s.name)).map((s) => `the state of ${s.name}`);
  if (media && (media.server === server.name || (media.server === undefined && localHolder(server, media.root)))) data.push(`the media library (${media.root})`);
  return data;
}

export function checkBackups(inventory: Inventory, fleet: StorageFleet, media: { root: string; server: string | undefined } | undefined): StorageConflict[] {
  const conflicts: StorageConflict[] = [];
  (inventory.storage?.backup_locations ?? []).forEach((raw, index) => {
    const location = readLocation(raw);
    if (!location) return;
    const field: FieldPath = ['storage', 'backup_locations', index];
    const holders = location.server !== undefined
      ? fleet.servers.filter((s) => s.name === location.server)
      : fleet.servers.filter((s) => localHolder(s, location.path) !== undefined);
    if (holders.length === 0 && location.server !== undefined) {
      conflicts.push({
        severity: 'error', code: 'unknown-server', path: location.path, field: [...field, 'server'],
        message: `backup location ${location.path} names server "${location.server}", which is not a server`,
      });
      return;
    }
    if (holders.length === 0) {
      conflicts.push({
        severity: 'warning', code: 'backup-on-same-server', path: location.path, field,
        message: `backup location ${location.path} is on no server's storage list, so each server would back up onto its own disks`,
        hint: 'add the backup disk to the storage list of the server that holds it, or give the location as {path, server}',
      });
      return;
    }
    for (const holder of holders) {
      const data = dataOn(holder, fleet, media);
      if (data.length === 0) continue;
      conflicts.push({
        severity: 'warning', code: 'backup-on-same-server', server: holder.name, path: location.path, field,
        message: `backup location ${location.path} is on ${holder.name}, which also holds ${data.join(', ')}: losing ${holder.name} loses the data and its backup`,
        hint: 'keep backups on a server that does not run what they protect, or add a second location off that box',
      });
    }
  });
  return conflicts;
}
