/**
 * The placement engine's input, read from what the controller knows: the inventory (servers'
 * tags, labels, location, role, groups; the services it declares with their pins), the service
 * definitions (catalog + overrides), each server's live view and facts, and where services run
 * now. Pure, so the same inputs give the same snapshot.
 *
 * Placed services are those the inventory declares under `services:`; the catalog alone places
 * nothing. The admin's orders (`services move`, `failover --to`) outrank the inventory's pins.
 */
import type { Facts } from '../../agent/facts-schema.js';
import type { HardwareProfile } from '../../agent/profile.js';
import { resolveGroups, serverEntries } from '../../inventory/groups.js';
import { HARDWARE_PROFILES } from '../../inventory/profiles.js';
import type { Inventory } from '../../inventory/schema.js';
import type { PlacementHealth, PlacementServer, PlacementService, PlacementSnapshot } from '../../placement/index.js';
import type { ResolvedService } from '../../services/resolve.js';
import { requiredMount } from '../../storage/health.js';
import type { ServicesState } from './state.js';

export interface LiveServer {
  name: string;
  health: PlacementHealth;
  profile: string;
  /** Percent of CPU and memory in use, from the last heartbeat. */
  load: { cpuPercent: number; memoryPercent: number } | null;
  facts: Facts | undefined;
  mounts?: readonly { path: string; healthy: boolean }[];
}

export interface SnapshotInput {
  inventory: Inventory | undefined;
  servers: readonly LiveServer[];
  definitions: readonly ResolvedService[];
  state: ServicesState;
  /** Servers to treat as unreachable whatever their view says (a failover in progress). */
  unreachable?: ReadonlySet<string>;
}

const MB = 2 ** 20;
const GB = 1e9;

function profileOf(text: string): HardwareProfile {
  return (HARDWARE_PROFILES as readonly string[]).includes(text) && text !== 'auto' ? (text as HardwareProfile) : 'generic';
}

/** Memory and cores the box has, and the most free space on one of its real filesystems. */
function capacity(facts: Facts | undefined): PlacementServer['capacity'] {
  if (!facts) return { memoryMb: 0, cpuCores: 0, diskFreeGb: 0 };
  const free = facts.disks.filter((d) => d.mount !== null && d.fsType !== 'tmpfs' && d.freeBytes !== null).map((d) => d.freeBytes as number);
  return {
    memoryMb: Math.floor((facts.memory.totalBytes ?? 0) / MB),
    cpuCores: facts.cpu.threads ?? facts.cpu.cores ?? 1,
    diskFreeGb: free.length > 0 ? Math.floor(Math.max(...free) / GB) : 0,
  };
}

export function placedServiceNames(inventory: Inventory | undefined, definitions: readonly ResolvedService[]): string[] {
  const known = new Set(definitions.map((d) => d.name));
  return Object.keys(inventory?.services ?? {}).filter((name) => known.has(name)).sort();
}

export function buildSnapshot(input: SnapshotInput): PlacementSnapshot {
  const inventory = input.inventory;
  const declared = new Map(inventory ? serverEntries(inventory) : []);
  const membership = inventory ? resolveGroups(inventory).membership : new Map<string, Set<string>>();
  const servers: PlacementServer[] = input.servers.map((live) => {
    const server = declared.get(live.name);
    const cap = capacity(live.facts);
    const raw = server as (Record<string, unknown> & typeof server) | undefined;
    return {
      name: live.name,
      profile: profileOf(live.profile),
      health: input.unreachable?.has(live.name) ? 'unreachable' : live.health,
      ...(raw?.draining === true && { draining: true }),
      tags: server?.tags ?? [],
      labels: Object.fromEntries(Object.entries(server?.labels ?? {}).map(([k, v]) => [k, String(v)])),
      groups: [...(membership.get(live.name) ?? [])],
      ...(server?.location !== undefined && { location: server.location }),
      fields: {
        ...(server?.role !== undefined && { role: server.role }),
        ...(server?.hardware_type !== undefined && { hardware_type: server.hardware_type }),
        ...(server?.hostname !== undefined && { hostname: server.hostname }),
        ...(server?.address !== undefined && { address: server.address }),
      },
      capacity: cap,
      ...(live.load && { load: { cpuPercent: live.load.cpuPercent, memoryUsedMb: Math.round((live.load.memoryPercent / 100) * cap.memoryMb) } }),
      ...(live.mounts && { mounts: live.mounts }),
    };
  });

  const byName = new Map(input.definitions.map((d) => [d.name, d]));
  const names = placedServiceNames(inventory, input.definitions);
  const placed = new Set(names);
  // The media mount is required only once agents report mounts: before that nothing could satisfy it.
  const mediaRoot = input.servers.some((s) => s.mounts !== undefined) ? inventory?.storage?.media_root : undefined;
  const services: PlacementService[] = names.map((name) => {
    const d = byName.get(name) as ResolvedService;
    const p = d.placement;
    const pinned = input.state.services[name]?.pinnedPrimary;
    const replicaPins = Array.isArray(p.replicas) ? p.replicas : undefined;
    const replicas = typeof p.replicas === 'number' ? p.replicas : (replicaPins?.length ?? 0);
    // A hard same-box affinity becomes `with`; a storage affinity is met by the shared media
    // mount (docs/storage.md), which the service then needs healthy.
    const together = (d.affinity ?? []).find((a) => a.scope === 'host' && a.strength === 'require');
    const partner = together?.services.find((s) => placed.has(s));
    const mount = requiredMount(d, mediaRoot);
    const primaryPin = pinned ?? p.primary;
    return {
      name,
      needs: { memoryMb: d.needs.memory_mb, cpu: d.needs.cpu, diskGb: d.needs.disk_gb },
      replicas,
      singleWriter: d.single_writer,
      ...(p.on !== undefined && { on: p.on }),
      ...(p.not_on !== undefined && { notOn: p.not_on }),
      ...(d.prefers?.profiles && { prefers: [...d.prefers.profiles] }),
      ...((partner || mount) && { affinity: { ...(partner && { with: partner }), ...(mount && { mount }) } }),
      ...((primaryPin || replicaPins) && { pins: { ...(primaryPin && { primary: primaryPin }), ...(replicaPins && { replicas: replicaPins }) } }),
    };
  });

  const current = Object.entries(input.state.services).filter(([name]) => placed.has(name))
    .map(([service, r]) => ({ service, primary: r.primary, replicas: r.replicas }));
  return { servers, services, current };
}
