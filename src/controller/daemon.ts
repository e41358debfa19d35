/**
 * `cistern controller`: state store, certificate authority, admin token, the HTTPS API with the
 * agents' sockets, the health ticker and the inventory binding, started together and shut down
 * in order (stop accepting, finish in-flight requests, flush the inventory, close the store).
 */
import { mkdir } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CisternError } from '../errors.js';
import { Notifier } from '../notify/index.js';
import type { Logger } from '../util/logger.js';
import { buildApp } from './app.js';
import { ensureAdminToken } from './auth.js';
import { loadOrCreatePki } from './ca.js';
import { ControllerCore } from './core.js';
import { EventLog } from './events.js';
import { Fleet } from './fleet.js';
import { healthConfig, type HealthConfig } from './health.js';
import { Hub } from './hub.js';
import { InventorySync } from './inventory-sync.js';
import { openControllerStore } from './store-adapter.js';
import { ControllerDiscovery } from './discovery.js';
import { ServiceManager } from './services/manager.js';
import { createMdns, type Mdns } from '../discovery/mdns.js';
import { createControllerMonitoring } from './monitoring.js';

export interface ControllerOptions {
  dataDir: string;
  host: string;
  port: number;
  /** The URL agents use; default https://<first non-loopback address or host>:<port>. */
  publicUrl?: string;
  inventory?: string;
  health?: Partial<HealthConfig>;
  logger: Logger;
  registrationsPerMinute?: number;
  /** How long a primary's server stays unreachable before its services fail over (default 1 s). */
  failoverGraceMs?: number;
  /** Advertise on and browse the local network (DNS-SD over mDNS). Off unless asked for. */
  mdns?: { interface?: string };
}

export interface RunningController {
  url: string;
  caFingerprint: string;
  caPem: string;
  /** Set only on the first start: shown once, stored hashed. */
  adminToken: string | undefined;
  core: ControllerCore;
  app: FastifyInstance;
  close(): Promise<void>;
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CISTERN_DATA_DIR) return env.CISTERN_DATA_DIR;
  if (process.getuid?.() === 0) return '/var/lib/cistern';
  return join(env.XDG_DATA_HOME ?? join(env.HOME ?? '.', '.local', 'share'), 'cistern');
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flat().flatMap((i) => (i ? [i.address.replace(/%.*$/, '')] : []));
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const store = openControllerStore(join(options.dataDir, 'state.db'));
  const ips = [...new Set(['127.0.0.1', '::1', ...localAddresses(), ...(options.host !== '0.0.0.0' && options.host !== '::' ? [options.host] : [])])];
  const pki = await loadOrCreatePki(join(options.dataDir, 'pki'), { dnsNames: [hostname(), 'localhost'], ips: ips.filter((ip) => /^[\d.]+$|:/.test(ip)) });
  const adminToken = ensureAdminToken(store);
  const health = healthConfig(options.health);
  const fleet = new Fleet(health);
  const hub = new Hub();
  const events = new EventLog(store.events);
  let inventory: InventorySync | undefined;
  if (options.inventory) {
    inventory = new InventorySync({ file: options.inventory, logger: options.logger });
    await inventory.start();
  }
  const core = new ControllerCore(store, fleet, hub, events, { heartbeatIntervalMs: health.intervalMs, leaseTtlMs: health.ttlMs }, inventory);
  let url = options.publicUrl ?? '';
  const mdns: Mdns | undefined = options.mdns
    ? createMdns({ ...(options.mdns.interface && { interface: options.mdns.interface }), onError: (error) => options.logger.warn({ err: error.message }, 'mDNS failed') })
    : undefined;
  const discovery = new ControllerDiscovery({ core, logger: options.logger, caFingerprint: pki.ca.fingerprint, ...(mdns && { mdns }), hostname: hostname() });
  const monitoring = await createControllerMonitoring({
    core, discovery, logger: options.logger, pkiDir: join(options.dataDir, 'pki'), pki, inventory: () => inventory?.analysis?.inventory, publicUrl: () => url,
  });
  // Fail over once a primary's server has been unreachable this long: by then (TTL + grace after
  // its last heartbeat) a cut-off primary's lease on single-writer services has run out.
  const services = new ServiceManager({ core, logger: options.logger, inventory: () => inventory?.analysis?.inventory, graceMs: options.failoverGraceMs ?? 1_000, metrics: monitoring.metrics });
  core.leaseSource = (name) => services.leasesFor(name);
  core.onAgentConnected = (name, agentId) => void services.push(name, agentId);
  // An agent that spent a service's restart budget hands it to failover.
  const unsubscribeFailures = events.subscribe((event) => {
    if (event.kind === 'service-failed' && event.server && typeof event.data.service === 'string') services.serviceFailed(event.server, event.data.service);
  });
  const app = await buildApp({
    core, discovery, services, logger: options.logger, https: { key: pki.server.keyPem, cert: pki.server.certPem },
    publicUrl: () => url, caFingerprint: pki.ca.fingerprint, registrationsPerMinute: options.registrationsPerMinute, monitoring,
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    monitoring.close();
    await mdns?.close();
    await inventory?.close();
    store.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new CisternError('E_LISTEN', `cannot listen on ${options.host}:${options.port}: ${code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`, {
      hint: code === 'EADDRINUSE' ? 'is another controller running? pick another port with --listen' : undefined, cause: error,
    });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  url = options.publicUrl ?? `https://${options.host === '0.0.0.0' || options.host === '::' ? (localAddresses().find((a) => a !== '127.0.0.1' && !a.includes(':')) ?? '127.0.0.1') : options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  // Advertised only once the port is known (port 0 picks one).
  discovery.setPort(port);
  discovery.start();
  // The controller's own alert notifications, to the inventory's monitoring.receivers (none: idle).
  const notifier = options.inventory ? new Notifier({
    events, logger: options.logger, baseDir: dirname(resolve(options.inventory)), externalUrl: () => url,
    monitoring: () => inventory?.analysis?.inventory.monitoring,
  }) : undefined;
  notifier?.start();
  let failingOver = false;
  const failoverTicker = setInterval(() => {
    if (failingOver) return;
    failingOver = true;
    services.tick().catch((error: unknown) => options.logger.error({ err: (error as Error).message }, 'failover check failed')).finally(() => { failingOver = false; });
  }, 500);
  const ticker = setInterval(() => core.tick(), Math.max(100, Math.min(1_000, Math.floor(health.intervalMs / 2))));
  const lastSeenWriter = setInterval(() => core.flushLastSeen(), 2_000);
  const certRenewer = setInterval(() => monitoring.renew(), 3_600_000);
  events.record('controller-started', null, { url });
  options.logger.info({ url, dataDir: options.dataDir, caFingerprint: pki.ca.fingerprint }, 'controller listening');

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    clearInterval(ticker);
    clearInterval(failoverTicker);
    unsubscribeFailures();
    clearInterval(lastSeenWriter);
    clearInterval(certRenewer);
    monitoring.close();
    discovery.close();
    await mdns?.close();
    hub.closeAll();
    await app.close();
    core.flushLastSeen();
    await inventory?.close();
    await notifier?.close();
    store.close();
  })());
  return { url, caFingerprint: pki.ca.fingerprint, caPem: pki.ca.certPem, adminToken, core, app, close };
}
