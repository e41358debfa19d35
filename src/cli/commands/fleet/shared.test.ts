import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ServerView } from '../../../controller/core.js';
import { ago, renderStatus, renderSummary } from './shared.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const server = (over: Partial<ServerView>): ServerView => ({
  name: 'eden', agentId: 'a1', hostname: 'eden', address: '192.168.1.10', profile: 'intel-quicksync', profileReason: 'intel-quicksync: Intel UHD',
  storageHeavy: false, health: 'healthy', flapping: false, lastSeen: '2026-11-28T11:59:55Z', connected: true,
  load: { load1: 0.5, cpuPercent: 12.4, memoryPercent: 40.2, diskPercent: 71.9 }, services: ['jellyfin', 'sonarr'], probes: {}, ...over,
});

describe('the status table', () => {
  it('has a row per server with health, last seen and load', () => {
    const text = renderStatus([server({}), server({ name: 'rivers', health: 'unreachable', flapping: true, load: null, services: [], lastSeen: null })], { color: false }, NOW);
    expect(text.split('\n')).toEqual([
      'NAME    ADDRESS       PROFILE          HEALTH                  LAST SEEN  CPU  MEM  DISK  SERVICES',
      'eden    192.168.1.10  intel-quicksync  healthy                 5s ago     12%  40%  72%   jellyfin,sonarr',
      'rivers  192.168.1.10  intel-quicksync  unreachable (flapping)  never      -    -    -     -',
      '',
    ]);
  });

  it('is colored on a terminal and plain when piped, with the same text', () => {
    const colored = renderStatus([server({ health: 'down' })], { color: true }, NOW);
    const plain = renderStatus([server({ health: 'down' })], { color: false }, NOW);
    expect(colored).not.toBe(plain);
    expect(colored).toContain('\x1b[');
    expect(plain).not.toContain('\x1b[');
    expect(stripVTControlCharacters(colored)).toBe(plain);
  });

  it('lists unhealthy mounts under the table', () => {
    const mount = { path: '/mnt/media', mountPoint: '/mnt/media', source: 'eden:/mnt/media', fsType: 'nfs4', mounted: true, freeBytes: null, totalBytes: null, checkedAt: 1 };
    const text = renderStatus([server({ mounts: [{ ...mount, state: 'ok', healthy: true, stale: false }] }), server({
      name: 'rivers', mounts: [{ ...mount, state: 'stale', healthy: false, stale: true, detail: 'ESTALE: Stale file handle' }],
    })], { color: false }, NOW);
    expect(text.split('\n').slice(3)).toEqual(['mount rivers: /mnt/media (eden:/mnt/media, nfs4): stale — ESTALE: Stale file handle', '']);
  });

  it('says how to add a server when there is none', () => {
    expect(renderStatus([], { color: false })).toContain('cistern token create');
  });

  it('shows ages in the largest fitting unit', () => {
    expect([ago('2026-11-28T11:59:30Z', NOW), ago('2026-11-28T11:00:00Z', NOW), ago('2026-11-25T12:00:00Z', NOW), ago(null, NOW)]).toEqual(['30s ago', '1h ago', '3d ago', 'never']);
  });

  it('adds the placed services with their primary\'s state, and the alerts firing now', () => {
    const text = renderSummary(
      [
        { name: 'jellyfin', primary: 'eden', replicas: ['rivers'], epoch: 2, singleWriter: true, health: { eden: 'healthy' }, reasons: [], unplaceable: null },
        { name: 'radarr', primary: null, replicas: [], epoch: 0, singleWriter: true, health: {}, reasons: [], unplaceable: 'radarr: no healthy server has 200 GB disk free' },
      ],
      [{ name: 'ServiceUnplaceable', severity: 'critical', server: null, service: 'radarr', summary: 'radarr: no healthy server has 200 GB disk free' }],
      { color: false },
    );
    expect(text.split('\n').map((l) => l.trimEnd())).toEqual([
      '', 'SERVICE   PRIMARY  STATE     REPLICAS', 'jellyfin  eden     healthy   rivers', 'radarr    -        unplaced  -', '',
      'alerts firing (1):', '  critical ServiceUnplaceable   radarr: no healthy server has 200 GB disk free', '',
    ]);
    expect(renderSummary([], [], { color: false })).toBe('\nno alerts firing\n');
  });
});
