import { describe, expect, it } from 'vitest';
import { HARDWARE_PROFILES } from '../inventory/schema.js';
import { CATALOG, catalogService } from './catalog.js';
import { KNOWN_SERVICES } from './known.js';
import { serviceDefinitionSchema } from './schema.js';

const NAMES = ['jellyfin', 'sonarr', 'radarr', 'prowlarr', 'bazarr', 'transmission', 'sabnzbd', 'jellyseerr'];

describe('the catalog', () => {
  it('holds the eight media services, each valid under the one service schema', () => {
    expect(CATALOG.map((s) => s.name)).toEqual(NAMES);
    for (const service of CATALOG) {
      const parsed = serviceDefinitionSchema.safeParse(service);
      expect(parsed.success, `${service.name}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });

  it('agrees with the known-service ports used by inventory validation', () => {
    for (const service of CATALOG) expect(service.port, service.name).toBe(KNOWN_SERVICES[service.name]?.port);
  });

  it('gives every service an authenticated status probe and its NixOS unit', () => {
    for (const service of CATALOG) {
      expect(service.status_probe?.auth, service.name).toBeDefined();
      expect(service.systemd_unit).toBe(`${service.name}.service`);
      expect(service.single_writer, service.name).toBe(true);
    }
  });

  it('sends each key the way its application reads it', () => {
    expect(catalogService('jellyfin')?.status_probe?.auth).toEqual({ kind: 'header', name: 'Authorization', format: 'MediaBrowser Token="{key}"' });
    expect(catalogService('sonarr')?.status_probe?.auth).toEqual({ kind: 'header', name: 'X-Api-Key' });
    expect(catalogService('sabnzbd')?.status_probe?.auth).toEqual({ kind: 'query', name: 'apikey' });
    expect(catalogService('transmission')?.status_probe?.auth).toEqual({ kind: 'basic' });
  });

  it('has Jellyfin prefer the hardware-transcoding profiles, by their names in the profile module', () => {
    const profiles = catalogService('jellyfin')?.prefers?.profiles ?? [];
    expect(profiles).toEqual(['intel-quicksync', 'nvidia', 'amd-vaapi']);
    for (const profile of profiles) expect(HARDWARE_PROFILES).toContain(profile);
  });

  it('puts Sonarr and Radarr near their download clients\' storage', () => {
    for (const name of ['sonarr', 'radarr']) {
      expect(catalogService(name)?.affinity).toEqual([expect.objectContaining({ services: ['transmission', 'sabnzbd'], scope: 'storage', strength: 'prefer' })]);
    }
  });
});
