/**
 * The inventory.yaml format: a strict superset of the original Cistern format (servers, network,
 * services with primary/replicas, storage, monitoring). Everything Cistern adds is optional, so
 * an original file validates unchanged. Objects are loose: keys we do not know are kept (and
 * reported as warnings by `unknownKeys`), never dropped.
 *
 * The JSON Schema printed by `cistern inventory schema` is generated from this module.
 */
import { z } from 'zod';
import { supervisionSchema } from '../supervisor/policy.js';
import { serviceFields } from '../services/schema.js';
import { monitoringFields } from '../monitoring/config-schema.js';
import { HARDWARE_PROFILES } from './profiles.js';

export { HARDWARE_PROFILES };
export const HARDWARE_TYPES = ['generic', 'raspberry-pi'] as const;
export const ROLES = ['primary', 'secondary', 'storage'] as const;
export const HEALTH_STATES = ['healthy', 'degraded', 'unreachable', 'down', 'unknown'] as const;

// No regex flags here: JSON Schema patterns cannot carry them, so cases are spelled out.
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
// RFC 1123 host names (labels of letters, digits and hyphens) or IP literals.
const HOST_NAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
const SIZE = /^\d+(\.\d+)?\s*([kKmMgGtTpPeE][iI]?[bB]?|[bB])?$/;
/** Names of servers, groups, services and templates: used in selectors and file names. */
export const NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;

const name = (what: string) =>
  z.string().regex(NAME, { error: `a ${what} name: letters, digits, '.', '_' and '-', not starting or ending with punctuation` });

export const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: 'an IPv4 or IPv6 address' });
export const cidr = z.union([z.cidrv4(), z.cidrv6()], { error: 'a network in CIDR form, like 192.168.1.0/24' });
export const hostOrAddress = z.union([z.ipv4(), z.ipv6(), z.string().regex(HOST_NAME)], {
  error: 'a host name (letters, digits, hyphens, dots) or an IP address',
});
export const macAddress = z.string().regex(MAC, { error: 'a MAC address: six hex pairs like aa:bb:cc:dd:ee:ff' });
export const isoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true, local: true })], {
  error: 'a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDThh:mm:ssZ)',
});
const timestamp = z.iso.datetime({ offset: true, error: 'an ISO 8601 timestamp like 2026-01-31T12:00:00Z' });
const port = z.int().min(1).max(65535);
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const vars = z.record(z.string(), z.unknown()).describe('Template variables');

export const sshKeySchema = z.looseObject({
  name: name('key').describe('Names the key: a more specific level replaces a key of the same name'),
  key: z.string().min(1).describe('An OpenSSH public key line: TYPE BASE64 [COMMENT], e.g. "ssh-ed25519 AAAA... alice@laptop"'),
});
const sshKeys = (level: string) => z.array(sshKeySchema).describe(
  `SSH public keys installed in the deploy user's authorized_keys by \`cistern keys sync\`, ${level}. `
  + 'A server gets the fleet keys, then its groups\' keys (by priority, then name), then its own; '
  + 'a key name at a more specific level replaces the same name from a lower one.',
);

export const storageDeviceSchema = z.looseObject({
  device: z.string().min(1),
  mount: z.string().regex(/^\//, { error: 'an absolute mount path starting with /' }),
  size: z.union([z.string().regex(SIZE, { error: 'a size like 500GB or 4TB' }), z.number().nonnegative()]).optional(),
});

const checkResultSchema = z.looseObject({
  ok: z.boolean(),
  detail: z.string().optional(),
  ms: z.number().nonnegative().optional(),
});

export const statusSchema = z
  .looseObject({
    health: z.enum(HEALTH_STATES).optional(),
    last_seen: timestamp.optional(),
    last_check: z
      .looseObject({
        at: timestamp,
        ok: z.boolean(),
        rtt_ms: z.number().nonnegative().nullable().optional(),
        checks: z.record(z.string(), checkResultSchema).optional(),
      })
      .optional(),
    facts: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('Machine-owned: written by Cistern. Edits by hand are overwritten.');

export const serverSchema = z.looseObject({
  hostname: hostOrAddress,
  mac_address: macAddress.optional(),
  hardware_type: z.enum(HARDWARE_TYPES).optional(),
  role: z.enum(ROLES).optional(),
  location: z.string().optional(),
  storage: z.array(storageDeviceSchema).optional(),
  services: z.array(z.string()).optional(),
  notes: z.string().nullable().optional(),
  deployed: z.union([z.boolean(), isoDate]).nullable().optional(),
  last_updated: isoDate.nullable().optional(),
  // Cistern additions
  address: hostOrAddress.optional().describe('Where Cistern reaches the server; defaults to hostname'),
  ssh: z.looseObject({ user: z.string().min(1).optional(), port: port.optional() }).optional(),
  tags: z.array(name('tag')).optional(),
  labels: z.record(z.string(), scalar).optional(),
  hardware_profile: z.enum(HARDWARE_PROFILES).optional().describe('auto (the default) detects from facts'),
  vars: vars.optional(),
  ssh_keys: sshKeys('for this server').optional(),
  status: statusSchema.optional(),
});

export const networkSchema = z.looseObject({
  subnet: cidr.optional(),
  gateway: ipAddress.optional(),
  dns: z.array(ipAddress).optional(),
  dhcp_range: z.looseObject({ start: ipAddress, end: ipAddress }).optional(),
});

/**
 * A service under `services:`. The original format pins placement (`primary`, `replicas` as a
 * list of servers); Cistern adds every field of a service definition (src/services/schema.ts),
 * each optional: for a catalog service it overrides the catalog's value, and a name outside the
 * catalog is a custom service, which must give at least a `port` or a `probe`.
 */
export const serviceEntrySchema = z.looseObject({
  primary: z.string().optional(),
  replicas: z.union([z.array(z.string()), z.int().min(0)])
    .optional()
    .describe('Servers that hold a replica (original format), or how many replicas placement should choose'),
  on: z.string().optional().describe('A selector, as with --on: servers this service may run on'),
  not_on: z.string().optional().describe('A selector: servers this service must not run on'),
  failback: z.enum(['off', 'auto']).optional()
    .describe('auto: after a failover, move back to `primary` once that server has been healthy for 5 minutes (default off)'),
  process: z.looseObject({
    argv: z.array(z.string().min(1)).min(1),
    env: z.record(z.string(), z.string()).optional(),
  }).optional().describe('Run by the agent itself (process driver) with this argv instead of a systemd unit'),
  supervision: supervisionSchema.optional().describe('Probe and restart pacing for the agents (docs/supervision.md)'),
  ...serviceFields,
  port: serviceFields.port.describe('Declares a custom service when the name is not in the catalog (probed over TCP unless `probe:` says otherwise)'),
});

export const storageSchema = z.looseObject({
  media_root: z.string().optional(),
  backup_locations: z.array(z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
  replication: z.unknown().optional(),
  // Cistern additions (see docs/storage.md)
  media_server: z.string().optional()
    .describe('The server that exports media_root over NFS; default: the one server whose storage list holds it'),
  export_to: z.enum(['clients', 'subnet']).optional()
    .describe('Who may mount the export: each client server\'s address (the default) or all of network.subnet'),
});

export const monitoringSchema = z.looseObject({
  prometheus_port: port.optional(),
  grafana_port: port.optional(),
  loki_port: port.optional(),
  alertmanager_port: port.optional(),
  // Cistern additions: `cistern monitoring generate` (src/monitoring/config-schema.ts)
  ...monitoringFields,
});

export const groupSchema = z.looseObject({
  description: z.string().optional(),
  members: z.array(z.string()).optional().describe('Server names'),
  selector: z.string().optional().describe('A selector, as with --on'),
  vars: vars.optional(),
  priority: z.int().optional().describe('Higher wins when groups set the same variable (default 0)'),
  ssh_keys: sshKeys('for the members of this group').optional(),
});

export const templateSchema = z.union([
  z.string(),
  z.looseObject({ description: z.string().optional(), text: z.string() }),
]);

export const inventorySchema = z.looseObject({
  servers: z.record(name('server'), serverSchema.nullable()).optional(),
  network: networkSchema.optional(),
  services: z.record(name('service'), serviceEntrySchema.nullable()).optional(),
  storage: storageSchema.optional(),
  monitoring: monitoringSchema.optional(),
  groups: z.record(name('group'), groupSchema.nullable()).optional(),
  vars: vars.optional().describe('Fleet-wide template variables'),
  ssh_keys: sshKeys('for every server').optional(),
  templates: z.record(name('template'), templateSchema).optional(),
});

export type Inventory = z.infer<typeof inventorySchema>;
export type Server = z.infer<typeof serverSchema>;
export type ServerStatus = z.infer<typeof statusSchema>;
export type Group = z.infer<typeof groupSchema>;
export type ServiceEntry = z.infer<typeof serviceEntrySchema>;
export type SshKey = z.infer<typeof sshKeySchema>;

/** The JSON Schema (draft 2020-12) for editors such as yaml-language-server. */
export function inventoryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(inventorySchema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });
  return {
    ...schema,
    $id: 'https://cistern.dev/schema/inventory.json',
    title: 'Cistern inventory',
    description: 'inventory.yaml: the fleet\'s servers, network, services, storage, monitoring, groups and templates',
  };
}
