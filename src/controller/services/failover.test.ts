import { describe, expect, it } from 'vitest';
import { failoverDecisions, promote, type ServerHealth } from './failover.js';
import type { ServicesState } from './state.js';
import { applyPlacements } from './state.js';

const state: ServicesState = {
  version: 1,
  services: {
    sonarr: { primary: 'eden', replicas: ['ocean', 'rivers'], epoch: 4, since: 0 },
    jellyfin: { primary: 'ocean', replicas: [], epoch: 2, since: 0 },
  },
};
const servers = (entries: Record<string, [string, number]>) => new Map<string, ServerHealth>(Object.entries(entries).map(([k, [health, since]]) => [k, { health, since }]));

describe('failover decisions', () => {
  it('wait out the grace period, then promote the first replica on a healthy server, keeping the old primary as a replica', () => {
    const input = { state, failed: new Map(), graceMs: 1_000 };
    const fleet = servers({ eden: ['unreachable', 10_000], ocean: ['suspect', 0], rivers: ['healthy', 0] });
    expect(failoverDecisions({ ...input, servers: fleet, now: 10_999 }).promotions).toEqual([]);
    const { promotions } = failoverDecisions({ ...input, servers: fleet, now: 11_000 });
    expect(promotions).toEqual([{ service: 'sonarr', from: 'eden', to: 'rivers', cause: 'server-unreachable', detectedAt: 10_000, replicas: ['eden', 'ocean'] }]);
    const next = promote(state, promotions, 11_000);
    expect(next.services.sonarr).toEqual({ primary: 'rivers', replicas: ['eden', 'ocean'], epoch: 5, since: 11_000 });
    expect(next.services.jellyfin).toBe(state.services.jellyfin);
  });

  it('fail over a service its agent gave up on, even on a healthy server', () => {
    const { promotions } = failoverDecisions({ state, servers: servers({ eden: ['healthy', 0], ocean: ['healthy', 0], rivers: ['healthy', 0] }), failed: new Map([['sonarr', 'eden']]), graceMs: 1_000, now: 5 });
    expect(promotions.map((p) => [p.service, p.to, p.cause])).toEqual([['sonarr', 'ocean', 'service-failed']]);
  });

  it('move nothing when no replica is healthy, and say why', () => {
    const { promotions, stuck } = failoverDecisions({ state, servers: servers({ eden: ['healthy', 0], ocean: ['down', 0], rivers: ['healthy', 0] }), failed: new Map(), graceMs: 1_000, now: 60_000 });
    expect(promotions).toEqual([]);
    expect(stuck).toEqual([{ service: 'jellyfin', from: 'ocean', reason: 'jellyfin: ocean is down, and no replica is on a healthy server to take over' }]);
  });

  it('fail back only with failback auto, once the preferred server has been healthy for the stable period', () => {
    const moved: ServicesState = { version: 1, services: { sonarr: { primary: 'rivers', replicas: ['eden'], epoch: 5, since: 0 } } };
    const fleet = servers({ eden: ['healthy', 100_000], rivers: ['healthy', 0] });
    const base = { state: moved, servers: fleet, failed: new Map(), graceMs: 1_000 };
    const failback = { services: new Set(['sonarr']), stableMs: 60_000, preferred: new Map([['sonarr', 'eden']]) };
    expect(failoverDecisions({ ...base, now: 200_000 }).promotions).toEqual([]);
    expect(failoverDecisions({ ...base, now: 159_999, failback }).promotions).toEqual([]);
    expect(failoverDecisions({ ...base, now: 160_000, failback }).promotions).toMatchObject([{ service: 'sonarr', from: 'rivers', to: 'eden', cause: 'failback' }]);
    expect(failoverDecisions({ ...base, now: 160_000, failback: { ...failback, services: new Set<string>() } }).promotions).toEqual([]);
  });
});

describe('applying a plan', () => {
  it('grows the epoch only where the primary changed', () => {
    const next = applyPlacements(state, [{ service: 'sonarr', primary: 'eden', replicas: ['ocean'] }, { service: 'jellyfin', primary: 'eden', replicas: [] }, { service: 'radarr', primary: 'rivers', replicas: [] }], 50);
    expect(next.services).toEqual({
      sonarr: { primary: 'eden', replicas: ['ocean'], epoch: 4, since: 0 },
      jellyfin: { primary: 'eden', replicas: [], epoch: 3, since: 50 },
      radarr: { primary: 'rivers', replicas: [], epoch: 1, since: 50 },
    });
  });
});
