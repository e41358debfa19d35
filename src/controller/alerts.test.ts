import { describe, expect, it } from 'vitest';
import { firingAlerts } from './alerts.js';
import type { ServerView } from './core.js';
import type { ServiceView } from './services/manager.js';

const server = (name: string, health: ServerView['health']): ServerView => ({
  name, agentId: null, hostname: null, address: null, profile: 'generic', profileReason: '', storageHeavy: false, health, flapping: false,
  lastSeen: '2026-03-01T12:00:00.000Z', connected: false, load: null, services: [], probes: {},
} as ServerView);
const service = (name: string, primary: string | null, health: Record<string, string>, unplaceable: string | null = null): ServiceView => ({
  name, primary, replicas: [], epoch: 1, singleWriter: true, health, reasons: [], unplaceable,
});

describe('alerts firing now', () => {
  it('fire for servers unreachable or down, and for services down, failed, misconfigured or unplaceable on their primary', () => {
    const alerts = firingAlerts(
      [server('eden', 'healthy'), server('ocean', 'unreachable'), server('rivers', 'down'), server('shed', 'suspect')],
      [
        service('jellyfin', 'eden', { eden: 'healthy' }), service('sonarr', 'eden', { eden: 'failed', ocean: 'stopped' }),
        service('radarr', 'eden', { eden: 'unhealthy' }), service('transmission', 'eden', { eden: 'misconfigured' }),
        service('bazarr', 'eden', { eden: 'starting' }), service('prowlarr', null, {}, 'prowlarr: no healthy server has 2 GB free'),
      ],
    );
    expect(alerts.map((a) => [a.name, a.severity, a.server, a.service])).toEqual([
      ['ServerDown', 'warning', 'ocean', null], ['ServerDown', 'critical', 'rivers', null],
      ['ServiceFailed', 'critical', 'eden', 'sonarr'], ['ServiceDown', 'warning', 'eden', 'radarr'],
      ['ServiceMisconfigured', 'warning', 'eden', 'transmission'], ['ServiceUnplaceable', 'critical', null, 'prowlarr'],
    ]);
    expect(alerts[0]?.summary).toBe('ocean is unreachable (last seen 2026-03-01T12:00:00.000Z)');
  });

  it('are quiet for a healthy fleet, for a suspect server and for a service still starting', () => {
    expect(firingAlerts([server('eden', 'healthy'), server('shed', 'suspect')], [service('bazarr', 'eden', { eden: 'starting' })])).toEqual([]);
  });
});
