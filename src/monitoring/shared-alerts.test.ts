import { describe, expect, it } from 'vitest';
import type { FleetEvent } from '../controller/events.js';
import { EVENT_MAPPINGS, alertsFromEvent } from '../notify/from-events.js';
import { CONTROLLER_ALERT_NAMES } from '../notify/types.js';
import { ALERT_NAMES } from './rules.js';
import { CONTROLLER_ONLY, PROMETHEUS_ONLY, SHARED_ALERTS, alertmanagerSilenced, controllerMuted } from './shared-alerts.js';

/** One event of each kind the notifier maps, with data that makes it fire (or resolve). */
const SAMPLE_DATA: Record<string, Record<string, unknown>> = {
  health: { from: 'suspect', to: 'down' },
  'agent-revoked': {},
  'service-state': { service: 'sonarr', to: 'failed' },
  'service-failed': { service: 'sonarr' },
  failover: { service: 'sonarr', from: 'alpha', to: 'beta', epoch: 2 },
  'deploy-failed': {},
  'deploy-succeeded': {},
};

describe('the alerts the controller and the Prometheus rules share', () => {
  it('names every alert the controller raises from events, and no other', () => {
    expect(Object.keys(SAMPLE_DATA).sort()).toEqual(Object.keys(EVENT_MAPPINGS).sort());
    const raised = new Set(Object.entries(SAMPLE_DATA).flatMap(([kind, data]) => {
      const event: FleetEvent = { id: 1, at: 0, kind, server: 'alpha', data };
      return alertsFromEvent(event).map((a) => a.name);
    }));
    expect([...raised].sort()).toEqual([...CONTROLLER_ALERT_NAMES].sort());
  });

  it('puts each controller alert either in a pair or among the controller-only ones, once', () => {
    const paired = SHARED_ALERTS.map((s) => s.controller);
    expect([...paired, ...CONTROLLER_ONLY].sort()).toEqual([...CONTROLLER_ALERT_NAMES].sort());
  });

  it('puts each Prometheus rule either in a pair or among the Prometheus-only ones, once', () => {
    const paired = SHARED_ALERTS.map((s) => s.prometheus);
    expect(new Set(paired).size).toBe(paired.length);
    expect([...paired, ...PROMETHEUS_ONLY].sort()).toEqual([...ALERT_NAMES].sort());
    expect(PROMETHEUS_ONLY).toEqual(['RestartLoop', 'DiskAlmostFull', 'HighTemperature', 'StaleBackup', 'CertificateExpiring', 'HeartbeatLag']);
  });

  it('lets exactly one side speak for the shared alerts, or both', () => {
    expect([controllerMuted('controller'), alertmanagerSilenced('controller')]).toEqual([[], ['ServerDown', 'ServiceDown', 'FailoverHappened']]);
    expect([controllerMuted('alertmanager'), alertmanagerSilenced('alertmanager')]).toEqual([['ServerDown', 'ServiceFailed', 'ServiceFailover'], []]);
    expect([controllerMuted('both'), alertmanagerSilenced('both')]).toEqual([[], []]);
  });
});
