import { describe, expect, it } from 'vitest';
import type { MountHealth } from '../protocol/messages.js';
import { catalogService } from '../services/catalog.js';
import { describeMount, formatBytes, placementMounts, requiredMount } from './health.js';

const report = (over: Partial<MountHealth>): MountHealth => ({
  path: '/mnt/media', mountPoint: '/mnt/media', source: 'eden:/mnt/media', fsType: 'nfs4', state: 'ok', healthy: true,
  mounted: true, stale: false, freeBytes: 1.5e12, totalBytes: 4e12, checkedAt: 1, ...over,
});

describe('mount health for placement', () => {
  it('maps a report to PlacementServer.mounts; no report means no mounts', () => {
    expect(placementMounts([report({}), report({ path: '/mnt/share', state: 'stale', healthy: false })])).toEqual([
      { path: '/mnt/media', healthy: true }, { path: '/mnt/share', healthy: false },
    ]);
    expect(placementMounts(undefined)).toEqual([]);
  });

  it('asks for the media root only for services that need media', () => {
    const jellyfin = catalogService('jellyfin');
    const prowlarr = catalogService('prowlarr');
    expect(jellyfin && requiredMount(jellyfin, '/mnt/media/')).toBe('/mnt/media');
    expect(prowlarr && requiredMount(prowlarr, '/mnt/media')).toBeUndefined();
    expect(jellyfin && requiredMount(jellyfin, null)).toBeUndefined();
  });

  it('describes a mount for people', () => {
    expect(describeMount(report({}))).toBe('/mnt/media (eden:/mnt/media, nfs4): ok, 1.5 TB free of 4.0 TB');
    expect(describeMount(report({ state: 'timeout', healthy: false, detail: 'no answer within 5000 ms', freeBytes: null, totalBytes: null })))
      .toBe('/mnt/media (eden:/mnt/media, nfs4): timeout — no answer within 5000 ms');
    expect([formatBytes(0), formatBytes(999), formatBytes(123_456_789)]).toEqual(['0 B', '999 B', '123 MB']);
  });
});
