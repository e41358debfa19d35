import { describe, expect, it } from 'vitest';
import type { FleetEvent } from '../controller/events.js';
import { alertsFromEvent } from './from-events.js';

let id = 0;
const event = (kind: string, server: string | null, data: Record<string, unknown>): FleetEvent => ({ id: ++id, at: 1_700_000_000_000, kind, server, data });
const brief = (e: FleetEvent) => alertsFromEvent(e).map((a) => `${a.key} ${a.status} ${a.severity}${a.once ? ' once' : ''}: ${a.summary}`);

describe('alerts from fleet events', () => {
  it.each<[string, FleetEvent, string[]]>([
    ['unreachable fires ServerDown (warning)', event('health', 'alpha', { from: 'suspect', to: 'unreachable', reason: 'no heartbeat for 15 s' }),
      ['ServerDown/alpha firing warning: alpha is unreachable: no heartbeat for 15 s']],
    ['down fires it again, critical', event('health', 'alpha', { from: 'unreachable', to: 'down' }), ['ServerDown/alpha firing critical: alpha is down']],
    ['healthy resolves it', event('health', 'alpha', { from: 'unreachable', to: 'healthy' }), ['ServerDown/alpha resolved info: alpha is healthy again']],
    ['suspect is not a problem yet', event('health', 'alpha', { from: 'healthy', to: 'suspect' }), []],
    ['a revoked agent resolves its alert', event('agent-revoked', 'alpha', {}), ['ServerDown/alpha resolved info: alpha was removed from the fleet']],
    ['a failed service fires ServiceFailed', event('service-state', 'alpha', { service: 'sonarr', from: 'unhealthy', to: 'failed' }),
      ['ServiceFailed/alpha/sonarr firing critical: sonarr on alpha is failed']],
    ['unhealthy is the supervisor\'s business', event('service-state', 'alpha', { service: 'sonarr', from: 'healthy', to: 'unhealthy' }), []],
    ['healthy again resolves', event('service-state', 'alpha', { service: 'sonarr', from: 'failed', to: 'healthy' }), ['ServiceFailed/alpha/sonarr resolved info: sonarr on alpha is healthy again']],
    ['stopped on purpose resolves', event('service-state', 'alpha', { service: 'sonarr', from: 'failed', to: 'stopped' }), ['ServiceFailed/alpha/sonarr resolved info: sonarr on alpha was stopped']],
    ['a spent restart budget fires', event('service-failed', 'alpha', { service: 'sonarr', restarts: 5 }),
      ['ServiceFailed/alpha/sonarr firing critical: sonarr on alpha failed after 5 restarts; the agent stopped restarting it']],
    ['a failover is a notice, one per epoch', event('failover', null, { service: 'jellyfin', from: 'alpha', to: 'beta', cause: 'alpha is down', epoch: 7 }),
      ['ServiceFailover/jellyfin/7 firing warning once: jellyfin failed over from alpha to beta: alpha is down']],
    ['a failed deploy fires', event('deploy-failed', 'alpha', { error: 'nixos-rebuild exited 1' }), ['DeployFailed/alpha firing critical: the deploy to alpha failed: nixos-rebuild exited 1']],
    ['a deploy that succeeds resolves it', event('deploy-succeeded', 'alpha', {}), ['DeployFailed/alpha resolved info: the deploy to alpha succeeded']],
    ['other kinds are not problems', event('registered', 'alpha', { hostname: 'alpha' }), []],
    ['notifications never notify', event('notification', null, { receiver: 'ops', result: 'failed' }), []],
    ['malformed data maps to nothing', event('health', 'alpha', { to: 42 }), []],
    ['no server, no server alert', event('health', null, { to: 'down' }), []],
    ['a kind named like an Object method is not a mapping', event('toString', 'alpha', {}), []],
  ])('%s', (_name, e, expected) => {
    expect(brief(e)).toEqual(expected);
  });

  it('labels carry the server and service for routes', () => {
    expect(alertsFromEvent(event('service-failed', 'alpha', { service: 'sonarr' }))[0]?.labels).toEqual({ server: 'alpha', service: 'sonarr' });
  });
});
