/**
 * The controller's metrics (CONTROLLER_METRICS in metric-names.ts), served at GET /metrics on
 * its API. Fleet-wide figures are read from a `ControllerMetricsSource` at scrape time; events
 * (heartbeats, registrations, API requests) are counted as they happen. Placement, failover and
 * backup code report through `recordPlacement`, `setUnplaceable`, `recordFailover` and
 * `setBackupSuccess`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CONTROLLER_METRICS } from './metric-names.js';

export const SERVER_HEALTH = ['healthy', 'suspect', 'degraded', 'unreachable', 'down', 'unknown'] as const;
export const REGISTRATION_VIA = ['token', 'provisioning', 'approval'] as const;
export type RegistrationVia = (typeof REGISTRATION_VIA)[number];
export type PlacementOutcome = 'applied' | 'unchanged' | 'failed';

/** What the controller knows at scrape time. */
export interface ControllerMetricsSource {
  /** Every server the controller knows (registered or declared), with its health. */
  healths(): Iterable<string>;
  /** Registered servers with the time of their last heartbeat (epoch ms); never-seen servers are left out. */
  lastHeartbeats(): Iterable<{ server: string; at: number }>;
  /** Boxes waiting in `cistern discover`. */
  pending(): number;
  /** TLS certificates the controller serves, by name, with their expiry (epoch ms). */
  certificates(): Iterable<{ name: string; notAfter: number }>;
}

export interface ControllerMetrics {
  readonly registry: Registry;
  /** A heartbeat the agent sent at `sentAt` (its clock) arrived at `receivedAt` (ours); epoch ms. */
  observeHeartbeat(sentAt: number, receivedAt: number): void;
  recordRegistration(via: RegistrationVia): void;
  recordPlacement(outcome: PlacementOutcome): void;
  setUnplaceable(count: number): void;
  recordFailover(service: string, cause: string): void;
  /** `route` is the route's pattern (`/v1/servers/:name`), never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** A backup of `service` on `server` succeeded at `at` (epoch ms). */
  setBackupSuccess(server: string, service: string, at: number): void;
  scrape(): Promise<{ contentType: string; body: string }>;
}

const HEARTBEAT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const API_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createControllerMetrics(options: { source: ControllerMetricsSource; clock?: () => number; processMetrics?: boolean }): ControllerMetrics {
  const { source } = options;
  const clock = options.clock ?? Date.now;
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: CONTROLLER_METRICS.servers, help: 'Servers by health.', labelNames: ['health'] as const, registers,
    collect() {
      const counts = new Map<string, number>(SERVER_HEALTH.map((h) => [h, 0]));
      for (const health of source.healths()) counts.set(health, (counts.get(health) ?? 0) + 1);
      for (const [health, n] of counts) this.labels(health).set(n);
    },
  });
  const heartbeat = new Histogram({ name: CONTROLLER_METRICS.heartbeatLatency, help: 'Heartbeat delay in seconds: controller receive time minus agent send time (clamped at 0).', buckets: HEARTBEAT_BUCKETS, registers });
  new Gauge({
    name: CONTROLLER_METRICS.heartbeatAge, help: 'Seconds since each server\'s last heartbeat.', labelNames: ['server'] as const, registers,
    collect() {
      this.reset();
      const now = clock();
      for (const { server, at } of source.lastHeartbeats()) this.labels(server).set(Math.max(0, (now - at) / 1000));
    },
  });
  const registrations = new Counter({ name: CONTROLLER_METRICS.registrations, help: 'Agents registered, by how they joined.', labelNames: ['via'] as const, registers });
  for (const via of REGISTRATION_VIA) registrations.labels(via).inc(0);
  const placements = new Counter({ name: CONTROLLER_METRICS.placements, help: 'Placement runs by outcome.', labelNames: ['outcome'] as const, registers });
  for (const outcome of ['applied', 'unchanged', 'failed'] as const) placements.labels(outcome).inc(0);
  const unplaceable = new Gauge({ name: CONTROLLER_METRICS.unplaceable, help: 'Services that could not be placed.', registers });
  const failovers = new Counter({ name: CONTROLLER_METRICS.failovers, help: 'Failovers by service and cause.', labelNames: ['service', 'cause'] as const, registers });
  const api = new Histogram({ name: CONTROLLER_METRICS.apiDuration, help: 'API request durations in seconds.', labelNames: ['method', 'route', 'status'] as const, buckets: API_BUCKETS, registers });
  new Gauge({
    name: CONTROLLER_METRICS.pending, help: 'Boxes waiting in `cistern discover`.', registers,
    collect() { this.set(source.pending()); },
  });
  const backups = new Gauge({ name: CONTROLLER_METRICS.backupLastSuccess, help: 'Unix time a backup last succeeded.', labelNames: ['server', 'service'] as const, registers });
  new Gauge({
    name: CONTROLLER_METRICS.certificateExpiry, help: 'Unix time each TLS certificate the controller serves expires.', labelNames: ['name'] as const, registers,
    collect() {
      this.reset();
      for (const { name, notAfter } of source.certificates()) this.labels(name).set(Math.floor(notAfter / 1000));
    },
  });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    observeHeartbeat(sentAt, receivedAt) {
      heartbeat.observe(Math.max(0, receivedAt - sentAt) / 1000);
    },
    recordRegistration(via) {
      registrations.labels(via).inc();
    },
    recordPlacement(outcome) {
      placements.labels(outcome).inc();
    },
    setUnplaceable(count) {
      unplaceable.set(count);
    },
    recordFailover(service, cause) {
      failovers.labels(service, cause).inc();
    },
    observeRequest(method, route, status, seconds) {
      api.labels(method, route, String(status)).observe(seconds);
    },
    setBackupSuccess(server, service, at) {
      backups.labels(server, service).set(Math.floor(at / 1000));
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
