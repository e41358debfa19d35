/**
 * What Prometheus scrapes, in its HTTP service discovery format (`http_sd_configs`): one group
 * per target with its labels. Pure: a snapshot of servers, service definitions and ports in,
 * target groups out; the controller serves it at GET /v1/sd/targets and `cistern monitoring
 * targets` prints it.
 *
 * Every server target is labelled server, location, role, profile and tags (`,a,b,`, so
 * `tags=~".*,tv,.*"` selects a tag). `__meta_cistern_scrape` says which scrape config of the
 * generated prometheus.yml takes the target (it keeps only its own), and `job` is what alerts and
 * dashboards see: node, cistern-agent, cistern-controller, exportarr, or a service's own name.
 */

/** The scrape configs of the generated prometheus.yml, one per kind of target. */
export const SCRAPES = ['cistern-controller', 'cistern-agent', 'node', 'exportarr', 'service'] as const;
export type Scrape = (typeof SCRAPES)[number];

export const SCRAPE_LABEL = '__meta_cistern_scrape';

/** Cistern's convention for exportarr's ports (it has no default; its docs use 9707 for sonarr and 9708 for radarr). */
export const EXPORTARR_PORTS: Readonly<Record<string, number>> = { sonarr: 9707, radarr: 9708, prowlarr: 9709, bazarr: 9710, sabnzbd: 9711 };
export const NODE_EXPORTER_PORT = 9100;

export interface SdGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface SdServer {
  name: string;
  /** Where Prometheus reaches the server; null when unknown (no target then). */
  address: string | null;
  location?: string | undefined;
  role?: string | undefined;
  profile: string;
  tags: readonly string[];
  /** The services placed on this server. */
  services: readonly string[];
  /** The agent's metrics listener; undefined: no agent registered; null: the agent runs without one. */
  agent?: { port: number; host?: string | undefined } | null | undefined;
}

/** What a service definition says about its metrics (the service catalog's `metrics`). */
export interface SdService {
  name: string;
  port?: number | undefined;
  /** The exportarr subcommand that exports it. */
  exportarr?: string | undefined;
  /** A Prometheus endpoint of the service itself, on its port. */
  path?: string | undefined;
  intervalS?: number | undefined;
}

export interface SdInput {
  servers: readonly SdServer[];
  services: readonly SdService[];
  /** The controller's API, host and port. */
  controller?: { host: string; port: number } | undefined;
  nodeExporterPort: number | false;
  /** Port per exportarr app; false: not scraped. Apps missing here use EXPORTARR_PORTS. */
  exportarrPorts: Readonly<Record<string, number | false>>;
}

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

function serverLabels(server: SdServer): Record<string, string> {
  return {
    server: server.name,
    ...(server.location && { location: server.location }),
    ...(server.role && { role: server.role }),
    profile: server.profile,
    ...(server.tags.length > 0 && { tags: `,${[...server.tags].sort().join(',')},` }),
  };
}

/** Slow exporters get their own interval, and a timeout to match (at most 30 s). */
function timing(intervalS: number | undefined): Record<string, string> {
  if (intervalS === undefined) return {};
  return { __scrape_interval__: `${intervalS}s`, __scrape_timeout__: `${Math.min(intervalS, 30)}s` };
}

export function sdTargets(input: SdInput, filter: { scrape?: Scrape } = {}): SdGroup[] {
  const groups: SdGroup[] = [];
  const add = (scrape: Scrape, target: string, labels: Record<string, string>) => {
    if (filter.scrape === undefined || filter.scrape === scrape) groups.push({ targets: [target], labels: { [SCRAPE_LABEL]: scrape, ...labels } });
  };
  if (input.controller) add('cistern-controller', hostPort(input.controller.host, input.controller.port), { job: 'cistern-controller' });
  const definitions = new Map(input.services.map((s) => [s.name, s]));
  for (const server of [...input.servers].sort((a, b) => a.name.localeCompare(b.name))) {
    if (server.address === null) continue;
    const labels = serverLabels(server);
    if (server.agent) {
      const host = server.agent.host !== undefined && !WILDCARD.has(server.agent.host) ? server.agent.host : server.address;
      add('cistern-agent', hostPort(host, server.agent.port), { ...labels, job: 'cistern-agent' });
    }
    if (input.nodeExporterPort !== false) add('node', hostPort(server.address, input.nodeExporterPort), { ...labels, job: 'node' });
    for (const name of [...new Set(server.services)].sort()) {
      const service = definitions.get(name);
      if (!service) continue;
      if (service.exportarr !== undefined) {
        const port = input.exportarrPorts[service.exportarr] ?? EXPORTARR_PORTS[service.exportarr];
        if (port !== undefined && port !== false) {
          add('exportarr', hostPort(server.address, port), { ...labels, job: 'exportarr', service: name, ...timing(service.intervalS) });
        }
      }
      if (service.path !== undefined && service.port !== undefined) {
        add('service', hostPort(server.address, service.port), { ...labels, job: name, service: name, __metrics_path__: service.path, ...timing(service.intervalS) });
      }
    }
  }
  return groups;
}

/** Exportarr apps whose port is neither given nor known: their targets are left out. */
export function exportarrWithoutPort(input: SdInput): string[] {
  const apps = new Set(input.services.flatMap((s) => (s.exportarr !== undefined ? [s.exportarr] : [])));
  return [...apps].filter((app) => input.exportarrPorts[app] === undefined && EXPORTARR_PORTS[app] === undefined).sort();
}
