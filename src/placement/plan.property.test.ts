import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HardwareProfile } from '../agent/profile.js';
import { parseSelector, selectorMatches, type SelectableServer } from '../inventory/selector.js';
import { applied, seeded } from '../testing/placement.js';
import { plan, type PlacementServer, type PlacementService, type PlacementSnapshot, type PlanResult } from './index.js';

const SERVER_NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const PROFILES: HardwareProfile[] = ['generic', 'raspberry-pi', 'intel-quicksync', 'nvidia', 'amd-vaapi'];
const KEEPS = new Set(['healthy', 'degraded', 'suspect', 'unknown']);
const MEDIA = '/srv/media';

const serverArb = (name: string) => fc.record({
  profile: fc.constantFrom(...PROFILES),
  health: fc.constantFrom<PlacementServer['health']>('healthy', 'healthy', 'healthy', 'healthy', 'degraded', 'suspect', 'unknown', 'unreachable', 'down'),
  draining: fc.constantFrom(false, false, false, false, true),
  tags: fc.subarray(['storage', 'tv', 'pi']),
  location: fc.option(fc.constantFrom('attic', 'hall', 'den'), { nil: undefined }),
  memoryMb: fc.constantFrom(1024, 2048, 4096, 8192),
  cpuCores: fc.constantFrom(1, 2, 4),
  diskFreeGb: fc.constantFrom(10, 50, 200),
  cpuPercent: fc.integer({ min: 0, max: 100 }),
  memoryUsed: fc.integer({ min: 0, max: 100 }),
  mount: fc.constantFrom<boolean | undefined>(undefined, true, false),
}).map((r): PlacementServer => ({
  name, profile: r.profile, health: r.health, draining: r.draining, tags: r.tags, location: r.location,
  capacity: { memoryMb: r.memoryMb, cpuCores: r.cpuCores, diskFreeGb: r.diskFreeGb },
  load: { cpuPercent: r.cpuPercent, memoryUsedMb: Math.floor((r.memoryMb * r.memoryUsed) / 100) },
  mounts: r.mount === undefined ? [] : [{ path: MEDIA, healthy: r.mount }],
}));

const serverRef = fc.constantFrom(...SERVER_NAMES, 'zz');

const serviceArb = (name: string, others: string[]) => fc.record({
  memoryMb: fc.constantFrom(256, 512, 1024, 2048),
  cpu: fc.constantFrom(0.25, 0.5, 1, 2),
  diskGb: fc.constantFrom(1, 5, 20, 100),
  replicas: fc.integer({ min: 0, max: 3 }),
  singleWriter: fc.boolean(),
  on: fc.option(fc.constantFrom('tag:storage', 'tag:tv', '!tag:pi', 'location=attic', '{a,b,c}*', 'profile=raspberry-pi', 'tag:'), { nil: undefined }),
  notOn: fc.option(fc.constantFrom('tag:pi', 'location=hall'), { nil: undefined }),
  prefers: fc.option(fc.subarray(PROFILES, { minLength: 1 }), { nil: undefined }),
  affinity: fc.option(fc.oneof(fc.constantFrom(...others, 'nothing').map((w) => ({ with: w })), fc.constant({ mount: MEDIA })), { freq: 3, nil: undefined }),
  pinPrimary: fc.option(serverRef, { freq: 3, nil: undefined }),
  pinReplicas: fc.option(fc.array(serverRef, { maxLength: 2 }), { freq: 4, nil: undefined }),
}).map((r): PlacementService => ({
  name, needs: { memoryMb: r.memoryMb, cpu: r.cpu, diskGb: r.diskGb }, replicas: r.replicas, singleWriter: r.singleWriter,
  on: r.on, notOn: r.notOn, prefers: r.prefers, affinity: r.affinity,
  pins: r.pinPrimary === undefined && r.pinReplicas === undefined ? undefined : { primary: r.pinPrimary, replicas: r.pinReplicas },
}));

const snapshotArb: fc.Arbitrary<PlacementSnapshot> = fc
  .tuple(fc.subarray(SERVER_NAMES, { minLength: 1 }), fc.integer({ min: 0, max: 10 }))
  .chain(([serverNames, count]) => {
    const names = Array.from({ length: count }, (_, i) => `s${i}`);
    return fc.record({
      servers: fc.tuple(...serverNames.map(serverArb)),
      services: fc.tuple(...names.map((n) => serviceArb(n, names.filter((o) => o !== n)))),
      current: fc.tuple(...names.map((service) => fc.option(fc.record({
        service: fc.constant(service),
        primary: fc.option(serverRef, { nil: null }),
        replicas: fc.uniqueArray(serverRef, { maxLength: 3 }),
      }), { nil: undefined }))),
    });
  })
  .map(({ servers, services, current }) => ({ servers, services, current: current.filter((c) => c !== undefined) }));

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function selectable(s: PlacementServer): SelectableServer {
  const fields: Record<string, string> = { profile: s.profile, health: s.health };
  if (s.location !== undefined) fields.location = s.location;
  return { name: s.name, tags: s.tags ?? [], groups: new Set(s.groups ?? []), fields, labels: s.labels ?? {} };
}

const matches = (text: string, s: PlacementServer) => selectorMatches(parseSelector(text), selectable(s));

/** Every hard rule, checked from the outside: what `plan` returned against what it was given. */
function violations(snapshot: PlacementSnapshot, result: PlanResult): string[] {
  const found: string[] = [];
  const servers = new Map(snapshot.servers.map((s) => [s.name, s]));
  const services = new Map(snapshot.services.map((s) => [s.name, s]));
  const current = new Map((snapshot.current ?? []).map((c) => [c.service, c]));
  const frozen = new Set(result.errors.map((e) => e.service));
  const placed = new Map(result.placements.map((p) => [p.service, p]));
  const booked = new Map<string, { memoryMb: number; cpu: number; diskGb: number; open: boolean }>();
  for (const p of result.placements) {
    const def = services.get(p.service);
    if (!def) {
      found.push(`${p.service} is placed but not defined`);
      continue;
    }
    const cur = current.get(p.service);
    const was = new Set([cur?.primary, ...(cur?.replicas ?? [])]);
    const instances: ['primary' | 'replica', string][] = [
      ...(p.primary === null ? [] : [['primary', p.primary] as ['primary', string]]),
      ...p.replicas.map((r): ['replica', string] => ['replica', r]),
    ];
    for (const [role, name] of instances) {
      const s = servers.get(name);
      const b = booked.get(name) ?? { memoryMb: 0, cpu: 0, diskGb: 0, open: false };
      booked.set(name, b);
      if (!s) {
        if (!frozen.has(p.service)) found.push(`${p.service} ${role} on ${name}, which is not in the fleet`);
        continue;
      }
      b.memoryMb += def.needs.memoryMb;
      b.cpu += role === 'replica' && def.singleWriter ? 0 : def.needs.cpu;
      if (frozen.has(p.service)) continue;
      b.open = true;
      if (!was.has(name)) b.diskGb += def.needs.diskGb;
      const stays = role === 'primary' ? cur?.primary === name : cur?.replicas.includes(name);
      if (s.draining) found.push(`${p.service} ${role} on draining ${name}`);
      if (stays ? !KEEPS.has(s.health) : s.health !== 'healthy') found.push(`${p.service} ${role} on ${s.health} ${name} (${stays ? 'kept' : 'new'})`);
      if (def.on !== undefined && !matches(def.on, s)) found.push(`${p.service} ${role} on ${name}, outside on: ${def.on}`);
      if (def.notOn !== undefined && matches(def.notOn, s)) found.push(`${p.service} ${role} on ${name}, inside not_on: ${def.notOn}`);
      if (def.affinity?.mount !== undefined && !s.mounts?.some((m) => m.path === def.affinity?.mount && m.healthy)) found.push(`${p.service} ${role} on ${name} without a healthy mount`);
    }
    if (frozen.has(p.service)) continue;
    const all = p.primary === null ? p.replicas : [p.primary, ...p.replicas];
    if (new Set(all).size !== all.length) found.push(`${p.service} has two instances on one server: ${all.join(' ')}`);
    if (p.primary === null && !result.unplaceable.some((u) => u.service === p.service && u.role === 'primary')) found.push(`${p.service} has no primary without saying why`);
    const count = Math.max(def.replicas ?? 0, def.pins?.replicas?.length ?? 0);
    if (p.replicas.length > count) found.push(`${p.service} has ${p.replicas.length} replicas, wants ${count}`);
    if (p.primary === null) continue;
    if (p.replicas.length < count && !result.unplaceable.some((u) => u.service === p.service && u.role === 'replica')) found.push(`${p.service} is short of replicas without saying why`);
    const target = def.affinity?.with;
    if (target !== undefined && placed.get(target)?.primary !== p.primary) found.push(`${p.service} is not with ${target}`);
    const conflict = (role: string, server: string) => result.conflicts.some((c) => c.service === p.service && c.role === role && c.server === server);
    const pin = def.pins?.primary;
    if (pin !== undefined && pin !== p.primary && !conflict('primary', pin)) found.push(`${p.service} pinned to ${pin} but on ${p.primary}, unreported`);
    for (const r of def.pins?.replicas ?? []) if (!p.replicas.includes(r) && !conflict('replica', r)) found.push(`${p.service} replica pinned to ${r} is missing, unreported`);
  }
  for (const [name, b] of booked) {
    const s = servers.get(name);
    if (!s || !b.open) continue;
    if (b.memoryMb > s.capacity.memoryMb || b.cpu > s.capacity.cpuCores || b.diskGb > s.capacity.diskFreeGb) found.push(`${name} over capacity: ${JSON.stringify(b)} > ${JSON.stringify(s.capacity)}`);
  }
  for (const def of snapshot.services) {
    const outcomes = [(placed.get(def.name)?.primary ?? null) !== null && !frozen.has(def.name), result.unplaceable.some((u) => u.service === def.name && u.role === 'primary'), frozen.has(def.name)];
    if (outcomes.filter(Boolean).length !== 1) found.push(`${def.name}: placed/unplaceable/error ${outcomes.join('/')}`);
  }
  return found;
}

/**
 * Services a change may move: those with an instance on `server` (none, for a server added), and
 * those that had no primary — placing one may promote a replica of theirs.
 */
const mayMove = (snapshot: PlacementSnapshot, server?: string) =>
  new Set((snapshot.current ?? []).filter((c) => c.primary === null || c.primary === server || (server !== undefined && c.replicas.includes(server))).map((c) => c.service));

const RUNS = { numRuns: Number(process.env.PLACEMENT_RUNS ?? 300) };

describe('plan: properties', () => {
  it('always keeps the hard constraints', () => {
    fc.assert(fc.property(snapshotArb, (snapshot) => {
      expect(violations(snapshot, plan(snapshot))).toEqual([]);
    }), RUNS);
  });

  it('gives the same output for the same input, in any order', () => {
    fc.assert(fc.property(snapshotArb, fc.integer(), (snapshot, seed) => {
      const random = seeded(seed);
      const reordered: PlacementSnapshot = {
        servers: shuffled(snapshot.servers, random).map((s) => ({ ...s, tags: shuffled(s.tags ?? [], random) })),
        services: shuffled(snapshot.services, random),
        current: shuffled(snapshot.current ?? [], random),
      };
      expect(plan(reordered)).toEqual(plan(snapshot));
    }), RUNS);
  });

  it('moves nothing when re-planning what it planned', () => {
    fc.assert(fc.property(snapshotArb, (snapshot) => {
      const first = plan(snapshot);
      const again = plan(applied(snapshot, first));
      expect(again.moves).toEqual([]);
      expect(again.placements.map((p) => [p.primary, p.replicas])).toEqual(first.placements.map((p) => [p.primary, p.replicas]));
    }), RUNS);
  });

  it('after losing a server, moves only what ran there', () => {
    fc.assert(fc.property(snapshotArb, fc.nat(), (snapshot, pick) => {
      const steady = applied(snapshot, plan(snapshot));
      const lost = (steady.servers[pick % steady.servers.length] as PlacementServer).name;
      const after = { ...steady, servers: steady.servers.filter((s) => s.name !== lost) };
      const result = plan(after);
      const movable = mayMove(steady, lost);
      expect(result.moves.filter((m) => m.from !== null && !movable.has(m.service))).toEqual([]);
      expect(violations(after, result)).toEqual([]);
    }), RUNS);
  });

  it('after adding a server, moves nothing that runs where it should', () => {
    fc.assert(fc.property(snapshotArb, serverArb('new'), (snapshot, added) => {
      const steady = applied(snapshot, plan(snapshot));
      const result = plan({ ...steady, servers: [...steady.servers, added] });
      const movable = mayMove(steady);
      expect(result.moves.filter((m) => m.from !== null && !movable.has(m.service))).toEqual([]);
    }), RUNS);
  });
});
