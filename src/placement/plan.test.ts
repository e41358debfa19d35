import { describe, expect, it } from 'vitest';
import { plan, reasonLine, type PlacementServer, type PlacementService, type PlacementSnapshot, type PlanResult } from './index.js';

const server = (name: string, over: Partial<PlacementServer> = {}): PlacementServer => ({
  name, profile: 'generic', health: 'healthy', tags: [], location: 'home',
  capacity: { memoryMb: 8192, cpuCores: 4, diskFreeGb: 1000 }, load: { cpuPercent: 0, memoryUsedMb: 0 }, ...over,
});
const service = (name: string, over: Partial<PlacementService> = {}): PlacementService => ({
  name, needs: { memoryMb: 1024, cpu: 1, diskGb: 10 }, ...over,
});

const where = (result: PlanResult) => Object.fromEntries(result.placements.map((p) => [p.service, [p.primary ?? '-', ...p.replicas].join(' ')]));
const reasonsOf = (result: PlanResult, name: string) => result.placements.find((p) => p.service === name)?.reasons.map((r) => reasonLine(name, r));

describe('plan: choosing a server', () => {
  it('explains the choice in words with the score', () => {
    const result = plan({
      servers: [server('eden', { profile: 'intel-quicksync', load: { cpuPercent: 13, memoryUsedMb: 1024 } }), server('pi', { profile: 'raspberry-pi' })],
      services: [service('jellyfin', { prefers: ['intel-quicksync', 'nvidia'] })],
    });
    expect(result.placements).toEqual([{
      service: 'jellyfin', primary: 'eden', replicas: [],
      reasons: [{ server: 'eden', role: 'primary', score: 0.8, reason: 'hardware transcoding (intel-quicksync), 62% CPU free, 75% memory free, score 0.80' }],
    }]);
    expect(reasonsOf(result, 'jellyfin')).toEqual(['jellyfin primary → eden: hardware transcoding (intel-quicksync), 62% CPU free, 75% memory free, score 0.80']);
    expect(result.moves).toEqual([{ service: 'jellyfin', role: 'primary', from: null, to: 'eden', why: 'jellyfin is not placed yet' }]);
  });

  it.each<[string, PlacementServer[], PlacementService, string]>([
    ['the least loaded server', [server('a', { load: { cpuPercent: 80, memoryUsedMb: 0 } }), server('b', { load: { cpuPercent: 10, memoryUsedMb: 0 } })], service('x'), 'b'],
    ['the first by name on a tie', [server('b'), server('a')], service('x'), 'a'],
    ['a preferred profile over an idler box', [server('a'), server('b', { profile: 'nvidia', load: { cpuPercent: 70, memoryUsedMb: 4000 } })], service('x', { prefers: ['nvidia'] }), 'b'],
    ['a server matching on', [server('a'), server('b', { tags: ['storage'] })], service('x', { on: 'tag:storage' }), 'b'],
    ['a server outside not_on', [server('a', { location: 'attic' }), server('b', { location: 'attic' }), server('c', { location: 'hall' })], service('x', { notOn: 'location=attic' }), 'c'],
    ['a server with the mount, healthy', [server('a', { mounts: [{ path: '/srv/media', healthy: false }] }), server('b', { mounts: [{ path: '/srv/media', healthy: true }] }), server('c')], service('x', { affinity: { mount: '/srv/media' } }), 'b'],
    ['a group selector', [server('a'), server('b', { groups: ['family'] })], service('x', { on: 'group:family' }), 'b'],
    ['a label selector', [server('a', { labels: { owner: 'mum' } }), server('b')], service('x', { on: 'label.owner=mum' }), 'a'],
    ['a profile selector', [server('a'), server('b', { profile: 'raspberry-pi' })], service('x', { on: 'profile=raspberry-pi' }), 'b'],
    ['a server with room', [server('a', { capacity: { memoryMb: 512, cpuCores: 8, diskFreeGb: 1000 } }), server('b', { load: { cpuPercent: 90, memoryUsedMb: 7000 } })], service('x'), 'b'],
  ])('picks %s', (_, servers, svc, expected) => {
    expect(plan({ servers, services: [svc] }).placements[0]?.primary).toBe(expected);
  });

  it.each<[PlacementServer['health'], boolean, boolean, boolean]>([
    // health, draining, keeps what it runs, takes something new
    ['healthy', false, true, true],
    ['degraded', false, true, false],
    ['suspect', false, true, false],
    ['unknown', false, true, false],
    ['unreachable', false, false, false],
    ['down', false, false, false],
    ['healthy', true, false, false],
  ])('a %s server (draining: %s) keeps: %s, takes new: %s', (health, draining, keeps, takes) => {
    const servers = [server('a', { health, draining }), server('z')];
    const kept = plan({ servers, services: [service('x')], current: [{ service: 'x', primary: 'a', replicas: [] }] });
    expect(kept.placements[0]?.primary).toBe(keeps ? 'a' : 'z');
    const placed = plan({ servers, services: [service('x')] });
    expect(placed.placements[0]?.primary).toBe(takes ? 'a' : 'z');
  });

  it('books capacity as it places, biggest first', () => {
    const result = plan({
      servers: [server('a', { capacity: { memoryMb: 4096, cpuCores: 8, diskFreeGb: 1000 } }), server('b', { capacity: { memoryMb: 3072, cpuCores: 8, diskFreeGb: 1000 } })],
      services: [service('small', { needs: { memoryMb: 1024, cpu: 1, diskGb: 1 } }), service('big', { needs: { memoryMb: 3072, cpu: 1, diskGb: 1 } }), service('mid', { needs: { memoryMb: 2048, cpu: 1, diskGb: 1 } })],
    });
    // big goes first (to a, the emptier), mid can only fit b, small fills a.
    expect(where(result)).toEqual({ big: 'a', mid: 'b', small: 'a' });
    expect(result.unplaceable).toEqual([]);
  });

  it('books disk only for services new to a server', () => {
    const servers = [server('a', { capacity: { memoryMb: 8192, cpuCores: 4, diskFreeGb: 50 } })];
    const services = [service('x', { needs: { memoryMb: 1024, cpu: 1, diskGb: 200 } })];
    expect(plan({ servers, services }).unplaceable).toHaveLength(1);
    expect(where(plan({ servers, services, current: [{ service: 'x', primary: 'a', replicas: [] }] }))).toEqual({ x: 'a' });
  });
});

describe('plan: replicas', () => {
  it('never puts a replica beside its primary or another replica, and spreads locations', () => {
    const result = plan({
      servers: [server('a1', { location: 'attic' }), server('a2', { location: 'attic' }), server('h1', { location: 'hall' }), server('k1', { location: 'kitchen' })],
      services: [service('x', { replicas: 2 })],
    });
    expect(where(result)).toEqual({ x: 'a1 h1 k1' });
    expect(reasonsOf(result, 'x')?.[1]).toBe('x replica → h1: location hall, not yet used by x, 75% CPU free, 88% memory free, score 0.88');
  });

  it('shares a location when no unused one has room', () => {
    const result = plan({
      servers: [server('a1', { location: 'attic' }), server('a2', { location: 'attic' }), server('h1', { location: 'hall', capacity: { memoryMb: 512, cpuCores: 4, diskFreeGb: 1000 } })],
      services: [service('x', { replicas: 1 })],
    });
    expect(where(result)).toEqual({ x: 'a1 a2' });
    expect(reasonsOf(result, 'x')?.[1]).toContain('location attic (every location with room already runs x)');
  });

  it('reports replicas it cannot place, naming the binding constraint', () => {
    const result = plan({ servers: [server('a'), server('b')], services: [service('x', { replicas: 2 })] });
    expect(where(result)).toEqual({ x: 'a b' });
    expect(result.unplaceable).toEqual([{
      service: 'x', role: 'replica',
      reason: 'x: 1 of 2 replicas placed: no healthy server is left besides a, b (replicas never share a server with the primary or each other)',
    }]);
  });

  it('books a single-writer standby without CPU', () => {
    const servers = [server('a', { capacity: { memoryMb: 8192, cpuCores: 1, diskFreeGb: 1000 } }), server('b', { capacity: { memoryMb: 8192, cpuCores: 1, diskFreeGb: 1000 } })];
    const needs = { memoryMb: 1024, cpu: 1, diskGb: 1 };
    const result = plan({ servers, services: [service('x', { needs, replicas: 1, singleWriter: true }), service('y', { needs })] });
    expect(where(result)).toEqual({ x: 'a b', y: 'b' });
    expect(reasonsOf(result, 'x')?.[1]).toContain('standby');
  });

  it('promotes a replica when the primary is lost, and replaces the replica', () => {
    const result = plan({
      servers: [server('a', { health: 'unreachable' }), server('b'), server('c')],
      services: [service('x', { replicas: 1 })],
      current: [{ service: 'x', primary: 'a', replicas: ['c'] }],
    });
    expect(where(result)).toEqual({ x: 'c b' });
    expect(reasonsOf(result, 'x')?.[0]).toMatch(/^x primary → c: promoted from replica/);
    expect(result.moves).toEqual([
      { service: 'x', role: 'primary', from: 'a', to: 'c', why: 'a is unreachable' },
      { service: 'x', role: 'replica', from: 'c', to: 'b', why: 'c became the primary' },
    ]);
  });

  it('keeps the replicas of a service whose primary no server can take', () => {
    const result = plan({
      servers: [server('big', { tags: ['big'], health: 'down' }), server('small', { tags: ['big'], capacity: { memoryMb: 8192, cpuCores: 1, diskFreeGb: 1000 } })],
      services: [service('x', { on: 'tag:big', needs: { memoryMb: 1024, cpu: 2, diskGb: 1 }, replicas: 1, singleWriter: true })],
      current: [{ service: 'x', primary: 'big', replicas: ['small'] }],
    });
    expect(result.placements).toEqual([{
      service: 'x', primary: null, replicas: ['small'],
      reasons: [{ server: 'small', role: 'replica', reason: 'already there, score 1.00', score: 1 }],
    }]);
    expect(result.unplaceable).toEqual([{ service: 'x', role: 'primary', reason: 'x: no healthy server with tag:big has 2 CPU cores unbooked (most: small, 1 CPU core)' }]);
    expect(result.moves).toEqual([{ service: 'x', role: 'primary', from: 'big', to: null, why: 'big is down' }]);
  });

  it('drops extra replicas when the count is lowered, keeping the first', () => {
    const result = plan({
      servers: [server('a'), server('b'), server('c')],
      services: [service('x', { replicas: 1 })],
      current: [{ service: 'x', primary: 'a', replicas: ['c', 'b'] }],
    });
    expect(where(result)).toEqual({ x: 'a c' });
    expect(result.moves).toEqual([{ service: 'x', role: 'replica', from: 'b', to: null, why: 'x wants 1 replica' }]);
  });
});

describe('plan: affinity', () => {
  const servers = [
    server('big', { capacity: { memoryMb: 8192, cpuCores: 4, diskFreeGb: 1000 }, load: { cpuPercent: 50, memoryUsedMb: 0 } }),
    server('small', { capacity: { memoryMb: 1024, cpuCores: 4, diskFreeGb: 1000 } }),
  ];

  it('puts a service with its download client, choosing a home where both fit', () => {
    const result = plan({
      servers,
      services: [service('transmission'), service('sonarr', { affinity: { with: 'transmission' } })],
    });
    // small scores higher for transmission alone, but only big holds both.
    expect(where(result)).toEqual({ sonarr: 'big', transmission: 'big' });
    expect(reasonsOf(result, 'sonarr')?.[0]).toMatch(/^sonarr primary → big: with transmission, /);
  });

  it('follows its target when the target moves', () => {
    const result = plan({
      servers: [...servers, server('gone', { health: 'down' })],
      services: [service('transmission'), service('sonarr', { affinity: { with: 'transmission' } })],
      current: [{ service: 'transmission', primary: 'gone', replicas: [] }, { service: 'sonarr', primary: 'gone', replicas: [] }],
    });
    expect(where(result)).toEqual({ sonarr: 'big', transmission: 'big' });
    expect(result.moves.map((m) => m.why)).toEqual(['gone is down', 'gone is down']);
  });

  it('is unplaceable when its target is', () => {
    const result = plan({
      servers,
      services: [service('transmission', { on: 'tag:nas' }), service('sonarr', { affinity: { with: 'transmission' } })],
    });
    expect(result.placements).toEqual([]);
    expect(result.unplaceable).toEqual([
      { service: 'sonarr', role: 'primary', reason: 'sonarr: it runs with transmission, which could not be placed' },
      { service: 'transmission', role: 'primary', reason: 'transmission: no healthy server matches tag:nas' },
    ]);
  });

  it('reports a member that does not fit its home', () => {
    const result = plan({
      servers,
      services: [service('transmission'), service('sonarr', { affinity: { with: 'transmission' }, needs: { memoryMb: 9000, cpu: 1, diskGb: 1 } })],
    });
    // No server holds both: transmission goes where it alone scores best.
    expect(where(result)).toEqual({ transmission: 'big' });
    expect(result.unplaceable).toEqual([{
      service: 'sonarr', role: 'primary', reason: 'sonarr: it must run with transmission on big, but big has 7168 MB memory unbooked, needs 9000 MB',
    }]);
  });
});

describe('plan: pins', () => {
  const servers = [server('a'), server('b'), server('c', { health: 'unreachable' }), server('d', { tags: ['pi'] })];

  it('honours pins from the original format', () => {
    const result = plan({ servers, services: [service('x', { pins: { primary: 'b', replicas: ['d'] } })] });
    expect(where(result)).toEqual({ x: 'b d' });
    expect(reasonsOf(result, 'x')?.[0]).toMatch(/^x primary → b: pinned, /);
    expect(result.conflicts).toEqual([]);
  });

  it.each<[string, PlacementService, string]>([
    ['an unreachable server', service('x', { pins: { primary: 'c' } }), 'x: primary pinned to c not honoured: c is unreachable'],
    ['an unknown server', service('x', { pins: { primary: 'zz' } }), 'x: primary pinned to zz not honoured: zz is not in the fleet'],
    ['a server not_on excludes', service('x', { notOn: 'tag:pi', pins: { primary: 'd' } }), 'x: primary pinned to d not honoured: d matches not_on: tag:pi'],
    ['a full server', service('x', { needs: { memoryMb: 9000, cpu: 1, diskGb: 1 }, pins: { primary: 'a' } }), 'x: primary pinned to a not honoured: a has 8192 MB memory unbooked, needs 9000 MB'],
  ])('reports a pin to %s and places the service by the usual rules', (_, svc, reason) => {
    const result = plan({ servers: [...servers, server('e', { capacity: { memoryMb: 16384, cpuCores: 4, diskFreeGb: 1000 } })], services: [svc] });
    expect(result.conflicts).toEqual([{ service: 'x', role: 'primary', server: svc.pins?.primary, reason }]);
    expect(result.placements).toHaveLength(1);
  });

  it('moves a service back to its pin when the pinned server returns', () => {
    const current = [{ service: 'x', primary: 'a', replicas: [] }];
    const result = plan({ servers: [server('a'), server('b')], services: [service('x', { pins: { primary: 'b' } })], current });
    expect(result.moves).toEqual([{ service: 'x', role: 'primary', from: 'a', to: 'b', why: 'pinned to b' }]);
  });

  it('places a unit where a member is pinned', () => {
    const result = plan({
      servers,
      services: [service('transmission'), service('sonarr', { affinity: { with: 'transmission' }, pins: { primary: 'b' } })],
    });
    expect(where(result)).toEqual({ sonarr: 'b', transmission: 'b' });
  });

  it('places a pinned member only after the service it runs with', () => {
    const result = plan({
      servers,
      services: [
        service('transmission', { pins: { primary: 'b' } }),
        service('sonarr', { affinity: { with: 'transmission' } }),
        service('bazarr', { affinity: { with: 'sonarr' }, pins: { primary: 'b' } }),
      ],
    });
    expect(where(result)).toEqual({ bazarr: 'b', sonarr: 'b', transmission: 'b' });
    expect(reasonsOf(result, 'bazarr')?.[0]).toMatch(/^bazarr primary → b: pinned, with transmission, /);
  });

  it('reports a member pinned away from its unit', () => {
    const result = plan({
      servers,
      services: [service('transmission', { pins: { primary: 'b' } }), service('sonarr', { affinity: { with: 'transmission' }, pins: { primary: 'a' } })],
    });
    expect(where(result)).toEqual({ sonarr: 'b', transmission: 'b' });
    expect(result.conflicts).toEqual([{ service: 'sonarr', role: 'primary', server: 'a', reason: 'sonarr: primary pinned to a not honoured: it runs with transmission, which is on b' }]);
  });

  it('takes capacity before what merely runs somewhere', () => {
    const result = plan({
      servers: [server('a', { capacity: { memoryMb: 2048, cpuCores: 4, diskFreeGb: 1000 } }), server('b')],
      services: [service('old', { needs: { memoryMb: 2048, cpu: 1, diskGb: 1 } }), service('pinned', { needs: { memoryMb: 2048, cpu: 1, diskGb: 1 }, pins: { primary: 'a' } })],
      current: [{ service: 'old', primary: 'a', replicas: [] }],
    });
    expect(where(result)).toEqual({ old: 'b', pinned: 'a' });
    expect(result.moves[0]).toEqual({ service: 'old', role: 'primary', from: 'a', to: 'b', why: 'a has 0 MB memory unbooked, needs 2048 MB' });
  });
});

describe('plan: stability', () => {
  it('keeps a valid placement even when a better server exists', () => {
    const result = plan({
      servers: [server('busy', { load: { cpuPercent: 90, memoryUsedMb: 6000 } }), server('idle')],
      services: [service('x')],
      current: [{ service: 'x', primary: 'busy', replicas: [] }],
    });
    expect(where(result)).toEqual({ x: 'busy' });
    expect(result.moves).toEqual([]);
    expect(reasonsOf(result, 'x')).toEqual(['x primary → busy: already there, score 0.50']);
  });

  it('moves only what must move, and says why', () => {
    const result = plan({
      servers: [server('a', { tags: ['tv'] }), server('b', { draining: true }), server('c')],
      services: [service('stay'), service('drained'), service('untagged', { on: 'tag:tv' })],
      current: [{ service: 'stay', primary: 'c', replicas: [] }, { service: 'drained', primary: 'b', replicas: [] }, { service: 'untagged', primary: 'c', replicas: [] }, { service: 'gone', primary: 'c', replicas: ['a'] }],
    });
    expect(where(result)).toEqual({ drained: 'a', stay: 'c', untagged: 'a' });
    expect(result.moves).toEqual([
      { service: 'drained', role: 'primary', from: 'b', to: 'a', why: 'b is draining' },
      { service: 'untagged', role: 'primary', from: 'c', to: 'a', why: 'c does not match on: tag:tv' },
      { service: 'gone', role: 'primary', from: 'c', to: null, why: 'gone is no longer defined' },
      { service: 'gone', role: 'replica', from: 'a', to: null, why: 'gone is no longer defined' },
    ]);
  });
});

describe('plan: impossible services and broken definitions', () => {
  const servers = [
    server('nas', { tags: ['storage'], capacity: { memoryMb: 8192, cpuCores: 4, diskFreeGb: 120 } }),
    server('nas2', { tags: ['storage'], capacity: { memoryMb: 8192, cpuCores: 4, diskFreeGb: 80 } }),
    server('tv', { capacity: { memoryMb: 8192, cpuCores: 4, diskFreeGb: 4000 } }),
    server('dead', { tags: ['storage'], health: 'down' }),
  ];
  it.each<[PlacementService, string]>([
    [service('radarr', { on: 'tag:storage', needs: { memoryMb: 512, cpu: 0.5, diskGb: 200 } }), 'radarr: no healthy server with tag:storage has 200 GB disk free (most: nas, 120 GB)'],
    [service('radarr', { on: 'tag:storage', needs: { memoryMb: 16384, cpu: 0.5, diskGb: 1 } }), 'radarr: no healthy server with tag:storage has 16384 MB memory unbooked (most: nas, 8192 MB)'],
    [service('radarr', { needs: { memoryMb: 512, cpu: 6, diskGb: 1 } }), 'radarr: no healthy server has 6 CPU cores unbooked (most: nas, 4 CPU cores)'],
    [service('radarr', { on: 'tag:nope' }), 'radarr: no healthy server matches tag:nope'],
    [service('radarr', { on: 'tag:storage', notOn: 'nas*' }), 'radarr: every healthy server with tag:storage matches not_on nas*'],
    [service('radarr', { on: 'tag:storage', affinity: { mount: '/srv/media' } }), 'radarr: no healthy server with tag:storage has a healthy /srv/media mount'],
  ])('%j: %s', (svc, reason) => {
    expect(plan({ servers, services: [svc] }).unplaceable).toEqual([{ service: 'radarr', role: 'primary', reason }]);
  });

  it('says so when no server is available at all', () => {
    const result = plan({ servers: [server('a', { health: 'down' }), server('b', { draining: true })], services: [service('x')] });
    expect(result.unplaceable[0]?.reason).toBe('x: no server is healthy and not draining (1 down, 1 draining)');
  });

  it('leaves a service with a malformed selector where it is, with the parser caret', () => {
    const result = plan({
      servers: [server('a'), server('b')],
      services: [service('x', { on: 'tag:' })],
      current: [{ service: 'x', primary: 'a', replicas: ['b'] }],
    });
    expect(result.errors).toEqual([{ service: 'x', reason: 'x: on: malformed selector: "tag:" needs a tag name after it\n  tag:\n  ^^^^' }]);
    expect(where(result)).toEqual({ x: 'a b' });
    expect(result.moves).toEqual([]);
  });

  it('leaves the replicas of a broken service without a primary where they are', () => {
    const result = plan({ servers: [server('a')], services: [service('x', { notOn: 'location=' })], current: [{ service: 'x', primary: null, replicas: ['a'] }] });
    expect(where(result)).toEqual({ x: '- a' });
    expect(result.moves).toEqual([]);
  });

  it('reports unknown and circular affinity, and leaves the dependants be', () => {
    const result = plan({
      servers: [server('a')],
      services: [
        service('a1', { affinity: { with: 'a2' } }), service('a2', { affinity: { with: 'a1' } }),
        service('lost', { affinity: { with: 'nothing' } }), service('follower', { affinity: { with: 'lost' } }),
      ],
    });
    expect(result.errors).toEqual([
      { service: 'a1', reason: 'a1: affinity cycle: a1 → a2 → a1' },
      { service: 'a2', reason: 'a2: affinity cycle: a1 → a2 → a1' },
      { service: 'follower', reason: 'follower: left unchanged: it runs with lost, which is left unchanged' },
      { service: 'lost', reason: 'lost: affinity with "nothing": no such service' },
    ]);
    expect(result.placements).toEqual([]);
  });

  it('refuses duplicate names as a bug in the snapshot', () => {
    const snapshot: PlacementSnapshot = { servers: [server('a'), server('a')], services: [] };
    expect(() => plan(snapshot)).toThrow('placement snapshot lists a server name twice');
    expect(() => plan({ servers: [], services: [service('x'), service('x')] })).toThrow('placement snapshot lists service x twice');
    const twice = (service: string) => [{ service, primary: null, replicas: [] }, { service, primary: null, replicas: [] }];
    expect(() => plan({ servers: [], services: [service('x')], current: twice('x') })).toThrow('the current placement of x twice');
    expect(() => plan({ servers: [], services: [], current: twice('gone') })).toThrow('the current placement of gone twice');
  });
});
