import { describe, expect, it } from 'vitest';
import type { Inventory } from '../inventory/schema.js';
import { CATALOG } from './catalog.js';
import { resolveServices, type ResolvedService } from './resolve.js';

const byName = (services: ResolvedService[], name: string) => services.find((s) => s.name === name);

describe('resolveServices', () => {
  it('is the catalog when the inventory says nothing about services', () => {
    const services = resolveServices({});
    expect(services.map((s) => s.name)).toEqual(CATALOG.map((s) => s.name));
    expect(services.every((s) => s.source === 'catalog')).toBe(true);
    expect(byName(services, 'jellyfin')).toEqual({ ...CATALOG[0], source: 'catalog', placement: {} });
  });

  it('keeps the original format\'s pins as placement, without calling them overrides', () => {
    const jellyfin = byName(resolveServices({ services: { jellyfin: { primary: 'eden', replicas: ['rivers'] } } }), 'jellyfin');
    expect(jellyfin?.source).toBe('catalog');
    expect(jellyfin?.placement).toEqual({ primary: 'eden', replicas: ['rivers'] });
  });

  it('overrides catalog fields, merging needs key by key and replacing probes whole', () => {
    const inventory: Inventory = {
      services: {
        sonarr: {
          port: 18989, needs: { memory_mb: 1024 }, systemd_unit: 'sonarr-tv.service', state_dir: '/srv/sonarr',
          probe: { kind: 'tcp' }, replicas: 0, on: 'tag:arr', not_on: 'role=storage',
        },
      },
    };
    const sonarr = byName(resolveServices(inventory), 'sonarr');
    expect(sonarr).toMatchObject({
      source: 'override', port: 18989, systemd_unit: 'sonarr-tv.service', state_dir: '/srv/sonarr', single_writer: true,
      needs: { memory_mb: 1024, cpu: 0.5, disk_gb: 2 }, probe: { kind: 'tcp' },
      placement: { replicas: 0, on: 'tag:arr', not_on: 'role=storage' },
    });
    expect(sonarr?.status_probe?.path).toBe('/api/v3/system/status');
  });

  it('adds custom services: a port alone means a TCP probe, with Cistern\'s defaults', () => {
    const services = resolveServices({ services: { 'home-assistant': { port: 8123, primary: 'eden' } } });
    expect(byName(services, 'home-assistant')).toEqual({
      name: 'home-assistant', port: 8123, probe: { kind: 'tcp' }, source: 'custom', placement: { primary: 'eden' },
      systemd_unit: 'home-assistant.service', state_dir: null, single_writer: false,
      needs: { memory_mb: 256, cpu: 0.5, disk_gb: 1 }, start_grace_s: 60,
    });
  });

  it('takes every field a custom service gives', () => {
    const services = resolveServices({
      services: {
        photos: {
          probe: { kind: 'http', path: '/api/health', port: 2283 }, single_writer: true, state_dir: '/var/lib/photos',
          needs: { memory_mb: 2048 }, prefers: { storage_heavy: true }, systemd_unit: 'immich-server.service', start_grace_s: 300,
        },
        'backup-check': { probe: { kind: 'command', argv: ['restic', 'check'] } },
      },
    });
    expect(byName(services, 'photos')).toMatchObject({
      single_writer: true, state_dir: '/var/lib/photos', systemd_unit: 'immich-server.service',
      needs: { memory_mb: 2048, cpu: 0.5, disk_gb: 1 }, prefers: { storage_heavy: true }, start_grace_s: 300,
    });
    expect(byName(services, 'photos')).not.toHaveProperty('port');
    expect(byName(services, 'backup-check')?.probe).toEqual({ kind: 'command', argv: ['restic', 'check'] });
  });

  it('leaves out entries that cannot make a definition', () => {
    const services = resolveServices({
      services: { 'my-app': { primary: 'eden' }, prometheus: { primary: 'eden' }, grafana: { port: 3000 }, gone: null },
    });
    expect(services.map((s) => s.name)).toEqual([...CATALOG.map((s) => s.name), 'grafana']);
  });

  it('is pure: the inventory is not changed', () => {
    const inventory: Inventory = { services: { sonarr: { needs: { cpu: 2 } } } };
    const copy = structuredClone(inventory);
    resolveServices(inventory);
    expect(inventory).toEqual(copy);
  });
});
