/**
 * A real controller for API tests: a ControllerCore over a SQLite store in a temp dir, and the
 * fastify app from buildApp without TLS and without listening (call `app.inject()`). The logger
 * is the daemon's, writing into memory so tests can search what was logged.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../controller/app.js';
import { ensureAdminToken } from '../controller/auth.js';
import { ControllerCore } from '../controller/core.js';
import { ControllerDiscovery } from '../controller/discovery.js';
import { ServiceManager } from '../controller/services/manager.js';
import { EventLog } from '../controller/events.js';
import { Fleet } from '../controller/fleet.js';
import { healthConfig, type HealthConfigInput } from '../controller/health.js';
import { Hub } from '../controller/hub.js';
import type { ControllerStore } from '../controller/ports.js';
import { openControllerStore } from '../controller/store-adapter.js';
import type { Mdns } from '../discovery/mdns.js';
import { createCA } from '../controller/ca.js';
import { ControllerMonitoring } from '../controller/monitoring.js';
import type { Inventory } from '../inventory/schema.js';
import { createLogger } from '../util/logger.js';
import { tempDir } from './tmp.js';

/** The CA fingerprint the test controller claims (it serves no TLS). */
export const TEST_CA_FINGERPRINT = `sha256:${'7e'.repeat(32)}`;
/** What the test controller hands out as its CA certificate (it serves no TLS). */
export const TEST_CA_PEM = '-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n';

export interface TestControllerOptions {
  /** Epoch ms; the core and the event log read time only from here. Default Date.now. */
  clock?: () => number;
  registrationsPerMinute?: number;
  health?: HealthConfigInput;
  /** An mDNS stand-in (see fakeMdns); the real one never runs outside the lab's namespaces. */
  mdns?: Mdns;
  /** Metrics, the scrape token and service discovery, with an agents CA made for the test. */
  monitoring?: { inventory?: () => Inventory | undefined };
  /** The inventory the service manager places from (it is not written back). */
  inventory?: Inventory;
  /** Failover grace period (default 1 s). */
  failoverGraceMs?: number;
}

export interface TestController {
  app: FastifyInstance;
  core: ControllerCore;
  discovery: ControllerDiscovery;
  services: ServiceManager;
  store: ControllerStore;
  adminToken: string;
  /** Present when asked for with `monitoring`. */
  monitoring: ControllerMonitoring | undefined;
  /** Everything logged so far, as pino's JSON lines. */
  logs(): string;
  close(): Promise<void>;
}

export async function testController(options: TestControllerOptions = {}): Promise<TestController> {
  const clock = options.clock ?? Date.now;
  const store = openControllerStore(join(tempDir(), 'state.db'));
  const adminToken = ensureAdminToken(store);
  if (!adminToken) throw new Error('a fresh store should have no admin token yet');
  const health = healthConfig(options.health);
  const hub = new Hub();
  const core = new ControllerCore(store, new Fleet(health), hub, new EventLog(store.events, clock), { heartbeatIntervalMs: health.intervalMs }, undefined, clock);

  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  // The most verbose level, so a secret logged at any level is found.
  const logger = createLogger({ name: 'controller-test', level: 'trace', destination });
  const discovery = new ControllerDiscovery({ core, logger, caFingerprint: TEST_CA_FINGERPRINT, port: 7443, hostname: 'controller', ...(options.mdns && { mdns: options.mdns }) });
  discovery.start();
  const monitoring = options.monitoring && new ControllerMonitoring({
    core, discovery, logger, agentsCa: await createCA({ commonName: 'test agents CA' }), caPem: TEST_CA_PEM, processMetrics: false,
    inventory: options.monitoring.inventory ?? (() => undefined), publicUrl: () => 'https://controller.test:7443',
  });
  const services = new ServiceManager({ core, logger, inventory: () => options.inventory, graceMs: options.failoverGraceMs ?? 1_000, clock });
  core.leaseSource = (name) => services.leasesFor(name);
  const app = await buildApp({
    core, logger, discovery, services, publicUrl: () => 'https://controller.test:7443', caFingerprint: TEST_CA_FINGERPRINT, ...(monitoring && { monitoring }),
    ...(options.registrationsPerMinute !== undefined && { registrationsPerMinute: options.registrationsPerMinute }),
  });
  await app.ready();

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    discovery.close();
    monitoring?.close();
    hub.closeAll();
    await app.close();
    store.close();
  })());
  return { app, core, discovery, services, store, adminToken, monitoring, logs: () => chunks.join(''), close };
}
