/**
 * The alerts firing now, as the controller sees them without Prometheus: servers unreachable or
 * down, and placed services that are down, failed, misconfigured or cannot be placed. Pure: the
 * fleet view and the service view in, a list out (`cistern status`, `cistern alerts`, GET /v1/alerts).
 */
import type { ServerView } from './core.js';
import type { ServiceView } from './services/manager.js';

export interface FiringAlert {
  name: 'ServerDown' | 'ServiceDown' | 'ServiceFailed' | 'ServiceMisconfigured' | 'ServiceUnplaceable';
  severity: 'warning' | 'critical';
  server: string | null;
  service: string | null;
  summary: string;
}

const SERVICE_ALERTS: Record<string, Pick<FiringAlert, 'name' | 'severity'>> = {
  unhealthy: { name: 'ServiceDown', severity: 'warning' },
  failed: { name: 'ServiceFailed', severity: 'critical' },
  misconfigured: { name: 'ServiceMisconfigured', severity: 'warning' },
};

export function firingAlerts(servers: readonly ServerView[], services: readonly ServiceView[]): FiringAlert[] {
  const alerts: FiringAlert[] = [];
  for (const s of servers) {
    if (s.health !== 'unreachable' && s.health !== 'down') continue;
    alerts.push({ name: 'ServerDown', severity: s.health === 'down' ? 'critical' : 'warning', server: s.name, service: null, summary: `${s.name} is ${s.health} (last seen ${s.lastSeen ?? 'never'})` });
  }
  for (const svc of services) {
    if (svc.primary === null) {
      if (svc.unplaceable) alerts.push({ name: 'ServiceUnplaceable', severity: 'critical', server: null, service: svc.name, summary: svc.unplaceable });
      continue;
    }
    const state = svc.health[svc.primary] ?? 'unknown';
    const alert = SERVICE_ALERTS[state];
    if (alert) alerts.push({ ...alert, server: svc.primary, service: svc.name, summary: `${svc.name} is ${state} on ${svc.primary}` });
  }
  return alerts;
}
