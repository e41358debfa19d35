/**
 * The adapter from the controller's event log to alert inputs: one mapping function per event
 * kind. A new kind of problem plugs in with one entry in EVENT_MAPPINGS. Event data comes from
 * the store as JSON, so every field is read defensively: a malformed event maps to nothing.
 */
import type { FleetEvent } from '../controller/events.js';
import type { AlertInput } from './types.js';

export type EventMapping = (event: FleetEvent) => AlertInput | AlertInput[] | undefined;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function serverDown(server: string, status: AlertInput['status'], severity: AlertInput['severity'], summary: string): AlertInput {
  return { key: `ServerDown/${server}`, name: 'ServerDown', severity, summary, status, labels: { server } };
}

function serviceFailed(server: string, service: string, status: AlertInput['status'], severity: AlertInput['severity'], summary: string): AlertInput {
  return { key: `ServiceFailed/${server}/${service}`, name: 'ServiceFailed', severity, summary, status, labels: { server, service } };
}

/** Health transitions (src/controller/health.ts): firing from unreachable on, resolved when healthy again. */
const health: EventMapping = (event) => {
  const server = event.server;
  const to = text(event.data.to);
  if (!server || !to) return undefined;
  const why = text(event.data.reason);
  if (to === 'unreachable' || to === 'down') {
    return serverDown(server, 'firing', to === 'down' ? 'critical' : 'warning', `${server} is ${to}${why ? `: ${why}` : ''}`);
  }
  if (to === 'healthy') return serverDown(server, 'resolved', 'info', `${server} is healthy again`);
  return undefined;
};

/** A revoked agent is gone on purpose: its problems end. */
const revoked: EventMapping = (event) => (event.server ? serverDown(event.server, 'resolved', 'info', `${event.server} was removed from the fleet`) : undefined);

/**
 * A supervised service's probe verdict changed ({service, from, to}): failed or misconfigured
 * fires; healthy, or stopped on purpose (placement moved it), resolves.
 */
const serviceState: EventMapping = (event) => {
  const server = event.server;
  const service = text(event.data.service);
  const to = text(event.data.to);
  if (!server || !service || !to) return undefined;
  if (to === 'failed' || to === 'misconfigured') return serviceFailed(server, service, 'firing', to === 'failed' ? 'critical' : 'warning', `${service} on ${server} is ${to}`);
  if (to === 'healthy') return serviceFailed(server, service, 'resolved', 'info', `${service} on ${server} is healthy again`);
  if (to === 'stopped') return serviceFailed(server, service, 'resolved', 'info', `${service} on ${server} was stopped`);
  return undefined;
};

/** The agent spent a service's restart budget ({service, restarts?}). */
const serviceGaveUp: EventMapping = (event) => {
  const server = event.server;
  const service = text(event.data.service);
  if (!server || !service) return undefined;
  const restarts = typeof event.data.restarts === 'number' ? ` after ${event.data.restarts} restarts` : '';
  return serviceFailed(server, service, 'firing', 'critical', `${service} on ${server} failed${restarts}; the agent stopped restarting it`);
};

/** A service moved to another server ({service, from, to, cause, epoch}): a notice, sent once. */
const failover: EventMapping = (event) => {
  const service = text(event.data.service);
  if (!service) return undefined;
  const from = text(event.data.from) ?? 'unknown';
  const to = text(event.data.to) ?? 'unknown';
  const cause = text(event.data.cause);
  const epoch = typeof event.data.epoch === 'number' ? String(event.data.epoch) : String(event.id);
  return {
    key: `ServiceFailover/${service}/${epoch}`, name: 'ServiceFailover', severity: 'warning', status: 'firing', once: true,
    summary: `${service} failed over from ${from} to ${to}${cause ? `: ${cause}` : ''}`,
    labels: { service, from, to },
  };
};

/** The deploy target: `data.target` if the deploy names one, else the event's server, else the fleet. */
const deployTarget = (event: FleetEvent) => text(event.data.target) ?? event.server ?? 'fleet';

const deployLabels = (event: FleetEvent, target: string) => ({ target, ...(event.server && { server: event.server }) });

/** A deploy failed ({target?, error?}): fires until a deploy of the same target succeeds. */
const deployFailed: EventMapping = (event) => {
  const target = deployTarget(event);
  const error = text(event.data.error);
  return {
    key: `DeployFailed/${target}`, name: 'DeployFailed', severity: 'critical', status: 'firing',
    summary: `the deploy to ${target} failed${error ? `: ${error}` : ''}`, labels: deployLabels(event, target),
  };
};

const deploySucceeded: EventMapping = (event) => {
  const target = deployTarget(event);
  return { key: `DeployFailed/${target}`, name: 'DeployFailed', severity: 'info', status: 'resolved', summary: `the deploy to ${target} succeeded`, labels: deployLabels(event, target) };
};

export const EVENT_MAPPINGS: Readonly<Record<string, EventMapping>> = {
  health,
  'agent-revoked': revoked,
  'service-state': serviceState,
  'service-failed': serviceGaveUp,
  failover,
  'deploy-failed': deployFailed,
  'deploy-succeeded': deploySucceeded,
};

/** The alert inputs an event means: none for kinds that are not problems (or malformed data). */
export function alertsFromEvent(event: FleetEvent, mappings: Readonly<Record<string, EventMapping>> = EVENT_MAPPINGS): AlertInput[] {
  const map = Object.hasOwn(mappings, event.kind) ? mappings[event.kind] : undefined;
  if (!map || typeof event.data !== 'object' || event.data === null) return [];
  const out = map(event);
  return out === undefined ? [] : Array.isArray(out) ? out : [out];
}
