/**
 * Generated placement snapshots for tests and benchmarks: a fleet of servers in a few dozen
 * locations with a mix of profiles, tags, health and sizes, and services with selectors from a
 * small vocabulary, affinity, mounts, preferences and some pins. The same seed gives the same
 * snapshot.
 */
import type { HardwareProfile } from '../agent/profile.js';
import type { PlacementServer, PlacementService, PlacementSnapshot, PlanResult } from '../placement/index.js';

/** mulberry32: a small seeded generator, so fixtures never depend on Math.random. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROFILES: HardwareProfile[] = ['generic', 'generic', 'intel-quicksync', 'raspberry-pi', 'nvidia', 'amd-vaapi'];
const SELECTORS = ['tag:storage', 'tag:tv', '!tag:pi', 'tag:{tv,storage}', 'role=primary', 'label.owner=mum', 'location=room-1*', '!location=room-2'];

export interface GenerateOptions {
  servers: number;
  services: number;
  seed?: number;
}

export function generateSnapshot({ servers, services, seed = 1 }: GenerateOptions): PlacementSnapshot {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const locations = Math.max(1, Math.ceil(servers / 20));
  const serverList: PlacementServer[] = [];
  for (let i = 0; i < servers; i++) {
    const profile = pick(PROFILES);
    const roll = random();
    const tags = [random() < 0.25 ? 'storage' : undefined, random() < 0.5 ? 'tv' : undefined, profile === 'raspberry-pi' ? 'pi' : undefined]
      .filter((t): t is string => t !== undefined);
    const memoryMb = profile === 'raspberry-pi' ? 4096 : pick([8192, 16384, 32768, 65536]);
    serverList.push({
      name: `media-${String(i).padStart(5, '0')}`,
      profile,
      health: roll < 0.01 ? 'unreachable' : roll < 0.02 ? 'degraded' : 'healthy',
      draining: roll > 0.99,
      tags,
      labels: random() < 0.3 ? { owner: 'mum' } : {},
      location: `room-${Math.floor(random() * locations)}`,
      fields: { role: random() < 0.5 ? 'primary' : 'secondary' },
      capacity: { memoryMb, cpuCores: profile === 'raspberry-pi' ? 4 : pick([4, 8, 16]), diskFreeGb: pick([200, 1000, 4000, 8000]) },
      load: { cpuPercent: Math.floor(random() * 60), memoryUsedMb: Math.floor(random() * memoryMb * 0.4) },
      mounts: random() < 0.6 ? [{ path: '/srv/media', healthy: random() < 0.95 }] : [],
    });
  }
  const serviceList: PlacementService[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${String(i).padStart(5, '0')}`;
    const service: PlacementService = {
      name,
      needs: { memoryMb: pick([128, 256, 512, 1024, 2048]), cpu: pick([0.1, 0.25, 0.5, 1]), diskGb: pick([1, 5, 20, 100]) },
      replicas: pick([0, 0, 1, 1, 2]),
      singleWriter: random() < 0.4,
    };
    if (random() < 0.3) service.on = pick(SELECTORS);
    if (random() < 0.1) service.notOn = pick(['tag:pi', 'location=room-0']);
    if (random() < 0.2) service.prefers = ['intel-quicksync', 'nvidia'];
    if (i > 0 && random() < 0.1) service.affinity = { with: `svc-${String(Math.floor(random() * i)).padStart(5, '0')}` };
    else if (random() < 0.2) service.affinity = { mount: '/srv/media' };
    if (servers > 0 && random() < 0.03) service.pins = { primary: (serverList[Math.floor(random() * servers)] as PlacementServer).name };
    serviceList.push(service);
  }
  return { servers: serverList, services: serviceList, current: [] };
}

/**
 * The snapshot after a plan was carried out: the plan's placements are current, and each
 * server's free disk has shrunk by the data of the instances new to it.
 */
export function applied(snapshot: PlacementSnapshot, result: PlanResult): PlacementSnapshot {
  const needs = new Map(snapshot.services.map((s) => [s.name, s.needs.diskGb]));
  const before = new Map((snapshot.current ?? []).map((c) => [c.service, new Set([c.primary, ...c.replicas])]));
  const used = new Map<string, number>();
  for (const p of result.placements) {
    const was = before.get(p.service);
    for (const server of p.primary === null ? p.replicas : [p.primary, ...p.replicas]) {
      if (was?.has(server)) continue;
      used.set(server, (used.get(server) ?? 0) + (needs.get(p.service) ?? 0));
    }
  }
  return {
    ...snapshot,
    servers: snapshot.servers.map((s) => (used.has(s.name)
      ? { ...s, capacity: { ...s.capacity, diskFreeGb: s.capacity.diskFreeGb - (used.get(s.name) ?? 0) } }
      : s)),
    current: result.placements.map((p) => ({ service: p.service, primary: p.primary, replicas: p.replicas })),
  };
}
