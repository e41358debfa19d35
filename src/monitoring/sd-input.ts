/**
 * Gathers what service discovery needs from the inventory and the controller's fleet view. Pure:
 * values in, an SdInput out. Placement is the inventory's: the services a server lists and the
 * services whose `primary` it is (replicas stand by and are not scraped).
 */
import type { Inventory } from '../inventory/schema.js';
import { resolveServices } from '../services/resolve.js';
import { NODE_EXPORTER_PORT, type SdInput, type SdServer, type SdService } from './targets.js';

/** A server as the controller's fleet view shows it (a subset of ServerView). */
export interface FleetServer {
  name: string;
  agentId: string | null;
  address: string | null;
  profile: string;
}

export interface SdSnapshot {
  inventory: Inventory | undefined;
  servers: readonly FleetServer[];
  /** Per agent id: its metrics listener, or null when it said it runs without one. Missing: not heard yet. */
  agentEndpoints: ReadonlyMap<string, { port: number; host?: string | undefined } | null>;
  /** The controller's own URL (its API, which serves /metrics). */
  controllerUrl?: string | undefined;
  /** The agents' port when an agent has not said (AGENT_PORT). */
  defaultAgentPort: number;
}

export function placedServices(inventory: Inventory | undefined, server: string): string[] {
  const placed = new Set(inventory?.servers?.[server]?.services ?? []);
  for (const [name, entry] of Object.entries(inventory?.services ?? {})) if (entry?.primary === server) placed.add(name);
  return [...placed].sort();
}

export function serviceMetrics(inventory: Inventory | undefined): SdService[] {
  return resolveServices(inventory ?? {}).flatMap((s) => (s.metrics ? [{
    name: s.name, port: s.port, exportarr: s.metrics.exportarr, path: s.metrics.path, intervalS: s.metrics.scrape_interval_s,
  }] : []));
}

export function sdInput(snapshot: SdSnapshot): SdInput {
  const { inventory } = snapshot;
  const servers: SdServer[] = snapshot.servers.map((view) => {
    const declared = inventory?.servers?.[view.name] ?? undefined;
    const endpoint = view.agentId === null ? undefined : snapshot.agentEndpoints.get(view.agentId);
    return {
      name: view.name,
      address: view.address,
      location: declared?.location,
      role: declared?.role,
      profile: view.profile,
      tags: declared?.tags ?? [],
      services: placedServices(inventory, view.name),
      // A registered agent not heard from since the controller started is listed at the default
      // port: Prometheus then shows it down, which is what it is.
      agent: view.agentId === null ? undefined : endpoint === undefined ? { port: snapshot.defaultAgentPort } : endpoint,
    };
  });
  const url = snapshot.controllerUrl ? new URL(snapshot.controllerUrl) : undefined;
  return {
    servers,
    services: serviceMetrics(inventory),
    controller: url ? { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443) } : undefined,
    nodeExporterPort: inventory?.monitoring?.node_exporter_port ?? NODE_EXPORTER_PORT,
    exportarrPorts: inventory?.monitoring?.exportarr ?? {},
  };
}
