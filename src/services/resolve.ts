/**
 * The effective service definitions of a fleet: the catalog, with the inventory's overrides laid
 * over it, plus the custom services the inventory defines. Pure: an inventory value in,
 * definitions out.
 *
 * Merging is field by field: a field the inventory gives replaces the catalog's whole (a probe
 * is replaced, never blended), except `needs`, which is merged key by key so `needs:
 * {memory_mb: 4096}` keeps the catalog's cpu and disk. A custom service without a probe is probed
 * over TCP on its port. Entries that cannot make a definition — a custom service with neither port
 * nor probe, which validation reports, or a known monitoring service (prometheus, grafana, ...)
 * that only pins placement — are left out; a monitoring service given a port or probe is custom.
 */
import type { Inventory, ServiceEntry } from '../inventory/schema.js';
import { CATALOG } from './catalog.js';
import { serviceDefinitionSchema, type ServiceDefinition } from './schema.js';

/** Where the inventory wants the service; consumed by placement. */
export interface Placement {
  primary?: string;
  replicas?: string[] | number;
  on?: string;
  not_on?: string;
}

export type ServiceSource = 'catalog' | 'override' | 'custom';

export type ResolvedService = ServiceDefinition & { source: ServiceSource; placement: Placement };

/** Cistern's defaults for what a custom service does not say. */
export const CUSTOM_DEFAULTS = {
  state_dir: null,
  single_writer: false,
  needs: { memory_mb: 256, cpu: 0.5, disk_gb: 1 },
  start_grace_s: 60,
} as const;

const PLACEMENT_KEYS = ['primary', 'replicas', 'on', 'not_on'] as const;
const DEFINITION_KEYS = [
  'description', 'port', 'probe', 'status_probe', 'key_source', 'state_dir', 'single_writer', 'needs', 'prefers',
  'affinity', 'systemd_unit', 'metrics', 'start_grace_s',
] as const;

export function resolveServices(inventory: Inventory): ResolvedService[] {
  const entries = inventory.services ?? {};
  const resolved: ResolvedService[] = CATALOG.map((base) => {
    const entry = entries[base.name] ?? undefined;
    const overrides = entry ? definitionFields(entry) : {};
    const source: ServiceSource = Object.keys(overrides).length > 0 ? 'override' : 'catalog';
    return { ...merge(base, overrides), source, placement: placement(entry) };
  });
  const inCatalog = new Set(CATALOG.map((s) => s.name));
  for (const [name, entry] of Object.entries(entries)) {
    if (inCatalog.has(name) || !entry) continue;
    const custom = customDefinition(name, entry);
    if (custom) resolved.push({ ...custom, source: 'custom', placement: placement(entry) });
  }
  return resolved;
}

/** A custom service's definition, or undefined when the entry cannot make a valid one. */
function customDefinition(name: string, entry: ServiceEntry): ServiceDefinition | undefined {
  if (entry.port === undefined && entry.probe === undefined) return undefined;
  const fields = definitionFields(entry);
  const candidate = {
    name,
    systemd_unit: `${name}.service`,
    ...CUSTOM_DEFAULTS,
    probe: { kind: 'tcp' },
    ...fields,
    needs: { ...CUSTOM_DEFAULTS.needs, ...(fields.needs ?? {}) },
  };
  // Validation has reported what fails here (e.g. an http probe with no port to reach).
  const parsed = serviceDefinitionSchema.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

function definitionFields(entry: ServiceEntry): Partial<ServiceDefinition> {
  const fields: Record<string, unknown> = {};
  for (const key of DEFINITION_KEYS) if (entry[key] !== undefined) fields[key] = entry[key];
  return fields as Partial<ServiceDefinition>;
}

function merge(base: ServiceDefinition, overrides: Partial<ServiceDefinition>): ServiceDefinition {
  return { ...base, ...overrides, needs: { ...base.needs, ...(overrides.needs ?? {}) } };
}

function placement(entry: ServiceEntry | null | undefined): Placement {
  const out: Placement = {};
  if (!entry) return out;
  for (const key of PLACEMENT_KEYS) if (entry[key] !== undefined) (out as Record<string, unknown>)[key] = entry[key];
  return out;
}
