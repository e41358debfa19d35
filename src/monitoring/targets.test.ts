import { describe, expect, it } from 'vitest';
import type { Inventory } from '../inventory/schema.js';
import { placedServices, sdInput, serviceMetrics } from './sd-input.js';
import { hostPort, sdTargets, SCRAPE_LABEL, type SdInput } from './targets.js';

const inventory: Inventory = {
  servers: {
    eden: { hostname: 'eden.lan', address: '192.168.1.10', location: 'living-room', role: 'primary', tags: ['tv', 'family'], services: ['jellyfin', 'sonarr'] },
    rivers: { hostname: 'rivers.lan', location: 'attic', services: ['bazarr', 'transmission'] },
    ocean: { hostname: 'fd00::7', services: [] },
  },
  services: { radarr: { primary: 'rivers', replicas: ['eden'] } },
  monitoring: { exportarr: { bazarr: 19710 } },
};

const views = [
  { name: 'eden', agentId: 'a-eden', address: '192.168.1.10', profile: 'intel-quicksync' },
  { name: 'rivers', agentId: 'a-rivers', address: 'rivers.lan', profile: 'generic' },
  { name: 'ocean', agentId: null, address: 'fd00::7', profile: 'generic' },
  { name: 'lost', agentId: 'a-lost', address: null, profile: 'generic' },
];

function input(endpoints: Record<string, { port: number; host?: string } | null> = {}): SdInput {
  return sdInput({ inventory, servers: views, agentEndpoints: new Map(Object.entries(endpoints)), controllerUrl: 'https://192.168.1.5:7443', defaultAgentPort: 9810 });
}

const byJob = (groups: ReturnType<typeof sdTargets>) => groups.map((g) => `${g.labels.job} ${g.targets.join(',')}`);

describe('service discovery targets', () => {
  it('lists the controller, and per server its agent, node_exporter and the metrics of its services', () => {
    expect(byJob(sdTargets(input({ 'a-eden': { port: 9810, host: '0.0.0.0' }, 'a-rivers': { port: 9811 } })))).toEqual([
      'cistern-controller 192.168.1.5:7443',
      'cistern-agent 192.168.1.10:9810', 'node 192.168.1.10:9100', 'jellyfin 192.168.1.10:8096', 'exportarr 192.168.1.10:9707',
      'node [fd00::7]:9100',
      'cistern-agent rivers.lan:9811', 'node rivers.lan:9100', 'exportarr rivers.lan:19710', 'exportarr rivers.lan:9708',
    ]);
  });

  it('labels every server target with server, location, role, profile and tags, and says which scrape takes it', () => {
    const [agent] = sdTargets(input({ 'a-eden': { port: 9810 } }), { scrape: 'cistern-agent' });
    expect(agent?.labels).toEqual({
      [SCRAPE_LABEL]: 'cistern-agent', job: 'cistern-agent', server: 'eden', location: 'living-room', role: 'primary', profile: 'intel-quicksync', tags: ',family,tv,',
    });
    const jellyfin = sdTargets(input(), { scrape: 'service' }).find((g) => g.labels.service === 'jellyfin');
    expect(jellyfin?.labels).toMatchObject({ job: 'jellyfin', service: 'jellyfin', __metrics_path__: '/metrics', server: 'eden' });
    // The controller target has no server label: its per-server metrics carry their own.
    expect(sdTargets(input(), { scrape: 'cistern-controller' })[0]?.labels).toEqual({ [SCRAPE_LABEL]: 'cistern-controller', job: 'cistern-controller' });
  });

  it('scrapes bazarr\'s exporter slowly, as its catalog entry asks', () => {
    const bazarr = sdTargets(input()).find((g) => g.labels.service === 'bazarr');
    expect(bazarr?.labels).toMatchObject({ job: 'exportarr', __scrape_interval__: '60s', __scrape_timeout__: '30s' });
  });

  it('sends Prometheus to the address an agent is bound to, unless it is a wildcard', () => {
    const agents = (endpoint: { port: number; host?: string }) => byJob(sdTargets(input({ 'a-eden': endpoint }), { scrape: 'cistern-agent' }));
    expect(agents({ port: 9900, host: '127.0.0.2' })).toContain('cistern-agent 127.0.0.2:9900');
    expect(agents({ port: 9900, host: '::' })).toContain('cistern-agent 192.168.1.10:9900');
  });

  it('lists no agent for an agent that runs without metrics, and the default port for one not heard from yet', () => {
    expect(byJob(sdTargets(input({ 'a-eden': null }), { scrape: 'cistern-agent' }))).toEqual(['cistern-agent rivers.lan:9810']);
  });

  it('turns node_exporter and exportarr apps off when the inventory says false', () => {
    const off = { ...input(), nodeExporterPort: false as const, exportarrPorts: { sonarr: false as const, radarr: false as const, bazarr: false as const } };
    expect(byJob(sdTargets(off)).filter((t) => /^(node|exportarr) /.test(t))).toEqual([]);
  });

  it('places a service by the server\'s list and by primary, never on replicas', () => {
    expect(placedServices(inventory, 'rivers')).toEqual(['bazarr', 'radarr', 'transmission']);
    expect(placedServices(inventory, 'eden')).toEqual(['jellyfin', 'sonarr']);
    expect(placedServices(undefined, 'eden')).toEqual([]);
  });

  it('knows the metrics of catalog services: exportarr for the *arr apps and SABnzbd, Jellyfin\'s own endpoint', () => {
    const metrics = Object.fromEntries(serviceMetrics(undefined).map((s) => [s.name, s.exportarr ?? s.path]));
    expect(metrics).toMatchObject({ jellyfin: '/metrics', sonarr: 'sonarr', radarr: 'radarr', prowlarr: 'prowlarr', bazarr: 'bazarr', sabnzbd: 'sabnzbd' });
    expect(metrics).not.toHaveProperty('transmission');
  });

  it('brackets IPv6 hosts', () => {
    expect(hostPort('fd00::1', 9100)).toBe('[fd00::1]:9100');
    expect(hostPort('[fd00::1]', 9100)).toBe('[fd00::1]:9100');
    expect(hostPort('eden.lan', 9100)).toBe('eden.lan:9100');
  });
});
