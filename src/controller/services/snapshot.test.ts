import { describe, expect, it } from 'vitest';
import { intelN100, nasTwoDisks, ryzenNvidia } from '../../agent/fixtures/pcs.js';
import { analyze } from '../../inventory/analyze.js';
import { plan } from '../../placement/index.js';
import { resolveServices } from '../../services/resolve.js';
import { buildSnapshot, type LiveServer } from './snapshot.js';
import { EMPTY_STATE, type ServicesState } from './state.js';

const INVENTORY = `
servers:
  eden: { hostname: eden.lan, role: primary, location: living-room, tags: [tv] }
  ocean: { hostname: ocean.lan, role: secondary, location: attic }
  vault: { hostname: vault.lan, role: storage, location: attic }
services:
  jellyfin: { primary: eden }
  sonarr: { replicas: 1 }
  transmission: { not_on: "role=storage" }
`;

const inventory = analyze(INVENTORY, 'inventory.yaml').inventory;
const definitions = resolveServices(inventory);
const live = (name: string, facts: LiveServer['facts'], health: LiveServer['health'] = 'healthy'): LiveServer => ({ name, health, profile: 'generic', load: { cpuPercent: 10, memoryPercent: 20 }, facts });
const fleet = [live('eden', intelN100), live('ocean', ryzenNvidia), live('vault', nasTwoDisks)];

describe('the placement snapshot', () => {
  it('places only the services the inventory declares, with its pins, selectors and replica counts', () => {
    const snapshot = buildSnapshot({ inventory, servers: fleet, definitions, state: EMPTY_STATE });
    expect(snapshot.services.map((s) => s.name)).toEqual(['jellyfin', 'sonarr', 'transmission']);
    expect(snapshot.services.find((s) => s.name === 'jellyfin')).toMatchObject({ pins: { primary: 'eden' }, needs: { memoryMb: expect.any(Number) } });
    expect(snapshot.services.find((s) => s.name === 'sonarr')).toMatchObject({ replicas: 1, singleWriter: true });
    expect(snapshot.services.find((s) => s.name === 'transmission')).toMatchObject({ notOn: 'role=storage' });
    expect(snapshot.servers.find((s) => s.name === 'eden')).toMatchObject({ location: 'living-room', tags: ['tv'], fields: { role: 'primary' }, capacity: { memoryMb: 15774, cpuCores: 4 } });
  });

  it('gives a plan that honours them: jellyfin on eden, transmission off the storage box, sonarr with a replica elsewhere', () => {
    const result = plan(buildSnapshot({ inventory, servers: fleet, definitions, state: EMPTY_STATE }));
    const at = Object.fromEntries(result.placements.map((p) => [p.service, p]));
    expect(at.jellyfin?.primary).toBe('eden');
    expect(at.transmission?.primary).not.toBe('vault');
    expect(at.sonarr?.replicas).toHaveLength(1);
    expect(at.sonarr?.replicas).not.toContain(at.sonarr?.primary);
    expect(result.unplaceable).toEqual([]);
  });

  it('lets the admin\'s order outrank the inventory\'s pin, and treats servers being failed over as unreachable', () => {
    const state: ServicesState = { version: 1, services: { jellyfin: { primary: 'eden', replicas: [], epoch: 1, since: 0, pinnedPrimary: 'ocean' } } };
    const snapshot = buildSnapshot({ inventory, servers: fleet, definitions, state, unreachable: new Set(['vault']) });
    expect(snapshot.services.find((s) => s.name === 'jellyfin')?.pins).toEqual({ primary: 'ocean' });
    expect(snapshot.servers.find((s) => s.name === 'vault')?.health).toBe('unreachable');
    expect(snapshot.current).toEqual([{ service: 'jellyfin', primary: 'eden', replicas: [] }]);
  });
});
