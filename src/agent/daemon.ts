/**
 * `cistern agent`: enroll once (or reuse the saved credential), then keep one connection to the
 * controller, heartbeating and answering commands, until stopped or refused for good.
 */
import type { CisternError } from '../errors.js';
import { applyAuthorizedKeysCommand } from '../keys/local-apply.js';
import type { Logger } from '../util/logger.js';
import { AgentConnection } from './connection.js';
import { type Enrollment } from './enroll.js';
import { advertiseAgent, type AgentAdvertisement } from './advertise.js';
import { join, type JoinOptions } from './join.js';
import { loadCredential, loadOrCreateAgeIdentity, type AgeKeyPair } from './identity.js';
import { createMdns } from '../discovery/mdns.js';
import { keyFingerprint } from '../discovery/records.js';
import { hostname } from 'node:os';
import { collectFacts } from './facts.js';
import { loadSampler } from './load.js';
import { LeaseBook } from './leases.js';
import { createAgentSupervisor, defaultServiceDriver, setServicesCommand, type DriverKind } from './supervision/index.js';
import { mountMonitor } from './mount-health.js';
import { createKeyStore, loadServiceKeys } from './service-keys/index.js';
import { startAgentMetrics, type AgentMetricsWiring } from './metrics.js';

export interface AgentOptions extends JoinOptions {
  logger: Logger;
  /** Heartbeat interval until the controller says otherwise. */
  intervalMs?: number;
  /** Advertise on the local network and find the controller there (DNS-SD over mDNS). Off unless asked for. */
  mdns?: { interface?: string };
  /** Lines for the person at the box: the key fingerprint to compare, what to run on the controller. */
  status?: (line: string) => void;
  /** Stops a wait for the controller or for approval. */
  signal?: AbortSignal;
  /** How supervised services are started and stopped unless the controller says (default: systemd when this box runs it). */
  serviceDriver?: DriverKind;
  /** Serve /metrics over HTTPS here (metrics-server.ts); no listener when absent. */
  metricsListen?: { host: string; port: number };
  /** The admin's service keys file (--service-keys): checked before anything else, refused when open to others or malformed. */
  serviceKeysFile?: string;
}

export interface RunningAgent {
  agentId: string;
  name: string | undefined;
  registered: boolean;
  connection: AgentConnection;
  /** Resolves when the controller refuses the agent for good (revoked, unknown). */
  refused: Promise<CisternError>;
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  // First: a refused keys file stops the agent before it joins or writes anything.
  const adminKeys = options.serviceKeysFile === undefined ? undefined : await loadServiceKeys(options.serviceKeysFile);
  if (adminKeys) options.logger.info({ file: adminKeys.file, services: [...adminKeys.keys.keys()] }, 'service keys file read');
  const keys = createKeyStore({ ...(adminKeys && { admin: adminKeys }), logger: options.logger });
  const facts = () => collectFacts();
  // The first collection is shared by the advertisement and the registration.
  const first = facts();
  first.catch(() => {}); // awaited later; this only keeps an early failure from counting as unhandled
  // Made on demand: a box refused at the CA check (wrong --ca-hash) is left with nothing written.
  let made: Promise<AgeKeyPair> | undefined;
  const identity = () => (made ??= loadOrCreateAgeIdentity(options.stateDir));
  const mdns = options.mdns
    ? createMdns({ ...(options.mdns.interface && { interface: options.mdns.interface }), onError: (error) => options.logger.warn({ err: error.message }, 'mDNS failed') })
    : undefined;
  let advertisement: AgentAdvertisement | undefined;
  let enrollment: Enrollment;
  let telemetry: AgentMetricsWiring;
  try {
    if (mdns) {
      const saved = await loadCredential(options.stateDir);
      advertisement = advertiseAgent(mdns, { id: saved?.agentId ?? '', name: options.name ?? hostname(), fingerprint: keyFingerprint((await identity()).recipient), facts: await first });
    }
    let reused = false;
    enrollment = await join(options, {
      identity, mdns, logger: options.logger, status: options.status ?? (() => {}), ...(options.signal && { signal: options.signal }),
      facts: () => (reused ? facts() : ((reused = true), first)),
    });
    await advertisement?.registered(enrollment.credential.agentId);
    telemetry = await startAgentMetrics({ listen: options.metricsListen, stateDir: options.stateDir, facts: first, logger: options.logger });
  } catch (error) {
    await advertisement?.stop();
    await mdns?.close();
    throw error;
  }
  const mounts = mountMonitor({ logger: options.logger });
  const serviceDriver = options.serviceDriver ?? defaultServiceDriver();
  // Single-writer services run only under a lease from the controller (leases.ts).
  const leases = new LeaseBook();
  let leaseTimer: NodeJS.Timeout | undefined;
  const supervisor = createAgentSupervisor({
    defaultDriver: serviceDriver, stateDir: options.stateDir, logger: options.logger,
    canRun: (definition) => leases.holds(definition.name),
    keys,
    onEvent: (event) => connection.sendEvent(event),
    metrics: telemetry.metrics,
  });
  let onRefused: (error: CisternError) => void = () => {};
  const refused = new Promise<CisternError>((resolve) => { onRefused = resolve; });
  const connection = new AgentConnection({
    credential: enrollment.credential,
    logger: options.logger,
    intervalMs: enrollment.heartbeatIntervalMs ?? options.intervalMs ?? 5_000,
    sampleLoad: loadSampler(),
    probeServices: () => supervisor.probeServices(),
    hello: () => telemetry.hello(),
    onAck: (rttMs) => telemetry.metrics.observeHeartbeat(rttMs),
    mounts: () => mounts.latest(),
    onWatch: (paths) => mounts.watch(paths),
    onLeases: (held, ttlMs) => {
      if (leases.renew(held, ttlMs)) supervisor.refreshLeases();
      for (const [service, epoch] of Object.entries(held)) telemetry.metrics.setLeaseEpoch(service, epoch);
      // Without another acknowledgement, the leases end then: stop what needs them at once.
      clearTimeout(leaseTimer);
      leaseTimer = setTimeout(() => supervisor.refreshLeases(), leases.remainingMs() + 5);
      leaseTimer.unref();
    },
    handlers: {
      ping: async () => ({ pong: true, at: new Date().toISOString() }),
      'collect-facts': async () => facts(),
      'apply-authorized-keys': (args) => applyAuthorizedKeysCommand(args, { logger: options.logger }),
      'set-services': setServicesCommand(supervisor, serviceDriver),
      'configure-metrics': (args) => telemetry.configure(args),
    },
    onFatal: (error) => {
      options.logger.error({ code: error.code }, error.message);
      onRefused(error);
    },
  });
  telemetry.watch(connection);
  connection.start();
  mounts.start();
  return {
    agentId: enrollment.credential.agentId,
    name: enrollment.name,
    registered: enrollment.registered,
    connection,
    refused,
    stop: async () => {
      clearTimeout(leaseTimer);
      await supervisor.close();
      mounts.stop();
      await connection.stop();
      await telemetry.close();
      await mdns?.close();
    },
  };
}
