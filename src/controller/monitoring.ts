/**
 * The controller's monitoring: its own metrics, the fleet's scrape token, the agents' metrics
 * listeners (certified by the agents CA and told the scrape token's hash), and the targets
 * Prometheus discovers over HTTP.
 *
 * The scrape token (`csm_…`) is one per fleet and stored hashed (meta `scrape_token_hash`).
 * Prometheus sends it to the controller's /metrics and /v1/sd/targets and to every agent's
 * /metrics; it can read nothing else. Rotating it reaches every connected agent at once.
 */
import { X509Certificate } from 'node:crypto';
import type { CertificateAuthority, Pki } from './ca.js';
import type { ControllerCore } from './core.js';
import type { ControllerDiscovery } from './discovery.js';
import type { Inventory } from '../inventory/schema.js';
import { agentCertNames, namesKey, type CertNames } from '../monitoring/agent-cert-names.js';
import { loadOrCreateAgentsCa, signAgentCert } from '../monitoring/agents-ca.js';
import { createControllerMetrics, type ControllerMetrics, type RegistrationVia } from '../monitoring/controller-metrics.js';
import { sdInput } from '../monitoring/sd-input.js';
import { sdTargets, type Scrape, type SdGroup } from '../monitoring/targets.js';
import { factsSchema } from '../agent/facts-schema.js';
import { AGENT_PORT } from '../discovery/records.js';
import type { HelloMetrics } from '../protocol/messages.js';
import type { Logger } from '../util/logger.js';
import { generateSecret, hashSecret } from './tokens.js';

export const SCRAPE_HASH_KEY = 'scrape_token_hash';
/** Agent certificates this close to expiry are renewed over the agent's connection. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface MonitoringOptions {
  core: ControllerCore;
  discovery: ControllerDiscovery;
  logger: Logger;
  agentsCa: CertificateAuthority;
  /** The controller's own CA certificate, which Prometheus trusts for the controller's API. */
  caPem: string;
  /** The inventory in force, if the controller has one. */
  inventory: () => Inventory | undefined;
  /** The controller's URL (as agents use it): its /metrics target. */
  publicUrl: () => string;
  /** The controller's own certificates and their expiry (epoch ms). */
  certificates?: () => Array<{ name: string; notAfter: number }>;
  clock?: () => number;
  /** Export the process's own figures too (default true; tests turn it off). */
  processMetrics?: boolean;
}

interface Endpoint extends HelloMetrics {
  names: string;
  notAfter: number | undefined;
}

export class ControllerMonitoring {
  readonly metrics: ControllerMetrics;
  /** Per agent id: its metrics listener as its last hello said, or null when it has none. */
  private readonly endpoints = new Map<string, Endpoint | null>();
  private readonly unsubscribe: () => void;
  private readonly clock: () => number;

  constructor(private readonly options: MonitoringOptions) {
    const { core } = options;
    this.clock = options.clock ?? core.clock;
    this.metrics = createControllerMetrics({
      clock: this.clock,
      processMetrics: options.processMetrics ?? true,
      source: {
        healths: () => core.servers().map((s) => s.health),
        lastHeartbeats: () => core.fleet.all().flatMap((a) => (a.health.lastHeartbeatAt === null ? [] : [{ server: a.name, at: a.health.lastHeartbeatAt }])),
        pending: () => options.discovery.list().length,
        certificates: () => [...(options.certificates?.() ?? []), ...this.agentCertificates()],
      },
    });
    this.unsubscribe = core.events.subscribe((event) => {
      if (event.kind !== 'registered') return;
      const via: RegistrationVia = event.data.via === 'approval' ? 'approval' : event.data.kind === 'provisioning' ? 'provisioning' : 'token';
      this.metrics.recordRegistration(via);
    });
  }

  /** The hash of the scrape token, if one was made. */
  scrapeTokenHash(): string | undefined {
    return this.options.core.store.meta.get(SCRAPE_HASH_KEY);
  }

  /** A new scrape token (shown once); the previous one stops working, here and on every connected agent. */
  rotateScrapeToken(): string {
    const token = generateSecret('csm_');
    this.options.core.store.meta.set(SCRAPE_HASH_KEY, hashSecret(token));
    this.options.core.events.record('scrape-token-rotated', null, {});
    for (const agentId of this.endpoints.keys()) this.configure(agentId);
    return token;
  }

  /** An agent said hello: remember its listener and certify it. */
  agentHello(agentId: string, metrics: HelloMetrics | undefined): void {
    if (!metrics) {
      this.endpoints.set(agentId, null);
      return;
    }
    this.endpoints.set(agentId, { ...metrics, names: '', notAfter: undefined });
    this.configure(agentId);
  }

  /** The agent's facts changed: a new address needs a new certificate. */
  factsUpdated(agentId: string): void {
    const endpoint = this.endpoints.get(agentId);
    if (endpoint && namesKey(this.certNames(agentId, endpoint)) !== endpoint.names) this.configure(agentId);
  }

  /** Renews agent certificates near expiry; the daemon calls it now and then. */
  renew(): void {
    const soon = this.clock() + RENEW_BEFORE_MS;
    for (const [agentId, endpoint] of this.endpoints) if (endpoint?.notAfter !== undefined && endpoint.notAfter < soon) this.configure(agentId);
  }

  heartbeat(sentAt: number): void {
    this.metrics.observeHeartbeat(sentAt, this.clock());
  }

  sd(scrape?: Scrape): SdGroup[] {
    const { core } = this.options;
    const agentEndpoints = new Map([...this.endpoints].map(([id, e]) => [id, e && { port: e.port, host: e.host }]));
    return sdTargets(sdInput({
      inventory: this.options.inventory(), servers: core.servers(), agentEndpoints, controllerUrl: this.options.publicUrl(), defaultAgentPort: AGENT_PORT,
    }), scrape === undefined ? {} : { scrape });
  }

  /** What `cistern monitoring generate` writes into prometheus.yml's folder. */
  setup(): { controllerUrl: string; caPem: string; agentsCaPem: string; scrapeToken: boolean } {
    return { controllerUrl: this.options.publicUrl(), caPem: this.options.caPem, agentsCaPem: this.options.agentsCa.certPem, scrapeToken: this.scrapeTokenHash() !== undefined };
  }

  close(): void {
    this.unsubscribe();
  }

  private certNames(agentId: string, endpoint: HelloMetrics): CertNames {
    const { core } = this.options;
    const agent = core.store.agents.get(agentId);
    const declared = agent ? this.options.inventory()?.servers?.[agent.name] ?? undefined : undefined;
    const facts = factsSchema.shape.interfaces.safeParse(agent?.facts.interfaces).data ?? [];
    return agentCertNames([
      endpoint.host, declared?.address, declared?.hostname, agent?.address, ...facts.flatMap((i) => i.addresses), agent?.hostname,
    ]);
  }

  private agentCertificates(): Array<{ name: string; notAfter: number }> {
    return [...this.endpoints].flatMap(([agentId, e]) => {
      const name = this.options.core.store.agents.get(agentId)?.name;
      return e?.notAfter !== undefined && name ? [{ name: `agent/${name}`, notAfter: e.notAfter }] : [];
    });
  }

  /** Sends the agent its certificate and the scrape token's hash; failures are logged, and retried at its next connection. */
  private configure(agentId: string): void {
    const endpoint = this.endpoints.get(agentId);
    if (!endpoint) return;
    const { core, logger } = this.options;
    const names = this.certNames(agentId, endpoint);
    const name = core.store.agents.get(agentId)?.name ?? agentId;
    (async () => {
      if (names.dnsNames.length + names.ips.length === 0) throw new Error('the agent has no address or host name to certify');
      const { certPem, notAfter } = await signAgentCert(this.options.agentsCa, endpoint.publicKey, names, new Date(this.clock()));
      const result = await core.hub.command(agentId, 'configure-metrics', { scrapeTokenHash: this.scrapeTokenHash() ?? null, certPem }, 30_000);
      if (!result.ok) throw new Error(result.error ?? 'the agent refused');
      if (this.endpoints.get(agentId) === endpoint) Object.assign(endpoint, { names: namesKey(names), notAfter });
    })().catch((error: unknown) => {
      logger.warn({ agent: name, err: (error as Error).message }, 'could not configure the agent\'s metrics listener');
    });
  }
}

/** The daemon's monitoring: the agents CA next to the controller's PKI, and its certificates' expiry as metrics. */
export async function createControllerMonitoring(options: Omit<MonitoringOptions, 'agentsCa' | 'caPem' | 'certificates'> & { pkiDir: string; pki: Pki }): Promise<ControllerMonitoring> {
  const agentsCa = await loadOrCreateAgentsCa(options.pkiDir);
  const expiry = (pem: string) => Date.parse(new X509Certificate(pem).validTo);
  const certificates = [
    { name: 'controller', notAfter: expiry(options.pki.server.certPem) },
    { name: 'controller-ca', notAfter: expiry(options.pki.ca.certPem) },
    { name: 'agents-ca', notAfter: expiry(agentsCa.certPem) },
  ];
  return new ControllerMonitoring({ ...options, agentsCa, caPem: options.pki.ca.certPem, certificates: () => certificates });
}
