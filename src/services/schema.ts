/**
 * What a service definition is: its port, a cheap health probe, an authenticated status probe,
 * where its state lives, what it needs of a box and what it prefers. One zod schema serves the
 * built-in catalog (catalog.ts) and the services an inventory adds or overrides, so both are
 * checked by the same rules. Keys are snake_case like the rest of inventory.yaml, so a definition
 * printed by `cistern services catalog --json` can be pasted under `services:` as an override.
 *
 * Objects are loose (unknown keys kept), as everywhere in the inventory format.
 */
import { z } from 'zod';
import type { HardwareProfile } from '../agent/profile.js';
import { HARDWARE_PROFILES } from '../inventory/profiles.js';

/** The same pattern as inventory names (src/inventory/schema.ts NAME); repeated to avoid an import cycle. */
const SERVICE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;
const serviceName = z.string().regex(SERVICE_NAME, { error: 'a service name: letters, digits, \'.\', \'_\' and \'-\'' });
const port = z.int().min(1).max(65535);
const httpStatus = z.int().min(100).max(599);
const timeoutMs = z.int().min(1).max(120_000).describe('How long to wait for an answer (default 5000 ms)');

/** What a probe answer means. `starting` and `misconfigured` are never grounds for a restart. */
export const VERDICTS = ['healthy', 'starting', 'unhealthy', 'misconfigured'] as const;
export type Verdict = (typeof VERDICTS)[number];

const answerMatch = {
  status: z.union([httpStatus, z.array(httpStatus).min(1)]).optional().describe('One HTTP status code or a list of them'),
  body: z.string().optional().describe('The body, exactly, ignoring surrounding white space'),
  body_contains: z.string().optional().describe('Text the body contains (any case)'),
  header: z.string().optional().describe('A response header that must be present (any case)'),
  content_type: z.string().optional().describe('The media type begins with this, e.g. text/html'),
  json: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .optional()
    .describe('Top-level fields of a JSON body with exactly these values'),
  json_keys: z.array(z.string()).optional().describe('Top-level fields a JSON body must have'),
};

/** A healthy answer. Every condition given must hold; an empty `expect` accepts any 2xx. */
export const expectSchema = z.looseObject(answerMatch).meta({ id: 'ProbeExpect' });

/** A notable answer that is not plain success: matched in order, before `expect`. */
export const answerRuleSchema = z.looseObject({
  ...answerMatch,
  verdict: z.enum(VERDICTS),
  detail: z.string().min(1).describe('What the answer means, for people'),
}).meta({ id: 'ProbeAnswerRule' });

/** How a credential travels. `{key}` in `format` is replaced by the key. */
export const authSchema = z.discriminatedUnion('kind', [
  z.looseObject({
    kind: z.literal('header'),
    name: z.string().min(1),
    format: z.string().includes('{key}').optional().describe('The header value; default "{key}"'),
  }),
  z.looseObject({ kind: z.literal('query'), name: z.string().min(1).describe('The query parameter') }),
  z.looseObject({ kind: z.literal('basic').describe('HTTP Basic with the service\'s user name and password') }),
]).meta({ id: 'ProbeAuth' });

const httpProbeShape = {
  kind: z.literal('http'),
  method: z.enum(['GET', 'HEAD', 'POST']).optional().describe('Default GET'),
  path: z.string().regex(/^\//, { error: 'a path starting with /, with a query if needed' }),
  port: port.optional().describe('Defaults to the service port'),
  tls: z.boolean().optional().describe('Use HTTPS (default false)'),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  auth: authSchema.optional().describe('How to send a credential, when the agent has one'),
  retry_with_header: z.string().optional()
    .describe('When the answer carries this header (a CSRF token), send the request once more with it'),
  expect: expectSchema.optional(),
  answers: z.array(answerRuleSchema).optional(),
  timeout_ms: timeoutMs.optional(),
};

export const httpProbeSchema = z.looseObject(httpProbeShape);
export const tcpProbeSchema = z.looseObject({
  kind: z.literal('tcp'),
  port: port.optional().describe('Defaults to the service port'),
  timeout_ms: timeoutMs.optional(),
});
export const commandProbeSchema = z.looseObject({
  kind: z.literal('command'),
  argv: z.array(z.string().min(1)).min(1).describe('Program and arguments, run by the agent without a shell'),
  expect_exit: z.array(z.int().min(0).max(255)).min(1).optional().describe('Exit codes that mean healthy (default [0])'),
  timeout_ms: timeoutMs.optional(),
});

/** The cheapest check that the service answers: run often, by the agent on the same box. */
export const probeSchema = z.discriminatedUnion('kind', [httpProbeSchema, tcpProbeSchema, commandProbeSchema]).meta({ id: 'ServiceProbe' });

/** A richer check that needs the service's API key: HTTP, with `auth` required. */
export const statusProbeSchema = z.looseObject({
  ...httpProbeShape,
  auth: authSchema,
  version_field: z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, { error: 'a dotted path of JSON fields, like data.version' }).optional()
    .describe('Where a healthy JSON answer gives the service\'s version (a dotted path), to report with the status'),
}).meta({ id: 'ServiceStatusProbe' });

/**
 * Where the application itself keeps its API key, for the agent to read: a file in its state
 * directory (or an absolute path) and the field in it. `xml`: the text of the first element of
 * that name (the *arr apps' config.xml); `ini`: `section.key` (SABnzbd's sabnzbd.ini); `yaml`:
 * a dotted path (Bazarr's config.yaml; JSON is YAML too).
 */
export const keySourceSchema = z.looseObject({
  file: z.string().min(1).describe('Relative to the service\'s state_dir, or absolute'),
  format: z.enum(['xml', 'ini', 'yaml']),
  field: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { error: 'an element name, section.key or a dotted path' }),
}).meta({ id: 'ServiceKeySource' });

export const needsSchema = z.looseObject({
  memory_mb: z.int().min(1).describe('Resident memory to reserve, in MiB'),
  cpu: z.number().positive().describe('CPU cores to reserve; fractions allowed (0.5 is half a core)'),
  disk_gb: z.number().nonnegative().describe('Disk for the state directory, in GB (media excluded)'),
  media: z.boolean().optional()
    .describe('Needs the fleet\'s media library (storage.media_root): runs only where it is mounted and healthy'),
});

const PROFILES = HARDWARE_PROFILES.filter((p): p is HardwareProfile => p !== 'auto');
export const prefersSchema = z.looseObject({
  profiles: z.array(z.enum(PROFILES as [HardwareProfile, ...HardwareProfile[]]))
    .optional()
    .describe('Hardware profiles (src/agent/profile.ts), best first; a soft preference'),
  storage_heavy: z.boolean().optional().describe('Prefers a box with much storage'),
  reason: z.string().optional(),
});

export const affinitySchema = z.looseObject({
  services: z.array(serviceName).min(1).describe('Any one of these services'),
  scope: z.enum(['host', 'storage']).describe('host: the same box; storage: a box that sees the same storage'),
  strength: z.enum(['prefer', 'require']),
  reason: z.string().min(1),
});

export const metricsSchema = z.looseObject({
  exportarr: z.string().optional().describe('The exportarr subcommand that exports this service'),
  path: z.string().regex(/^\//).optional().describe('A Prometheus endpoint of the service itself'),
  scrape_interval_s: z.int().min(1).optional(),
  note: z.string().optional(),
});

const stateDir = z.string().regex(/^\//, { error: 'an absolute path' }).nullable();
const systemdUnit = z.string().regex(/^[a-zA-Z0-9:_.@-]+\.service$/, { error: 'a systemd service unit, like jellyfin.service' });

/** Every field a service definition has; the inventory gives any of them, all optional. */
const definitionShape = {
  description: z.string().optional(),
  port: port.optional().describe('The port users and the reverse proxy reach it on'),
  probe: probeSchema,
  status_probe: statusProbeSchema.nullable().optional(),
  key_source: keySourceSchema.nullable().optional()
    .describe('Where the app keeps its API key, for the status probe (null: only the agent\'s --service-keys file has it)'),
  state_dir: stateDir.describe('Where its state lives on NixOS (null: stateless)'),
  single_writer: z.boolean().describe('Only one running copy may own the state, even across boxes'),
  needs: needsSchema,
  prefers: prefersSchema.optional(),
  affinity: z.array(affinitySchema).optional(),
  systemd_unit: systemdUnit,
  metrics: metricsSchema.optional(),
  start_grace_s: z.int().min(0).max(3600)
    .describe('After a (re)start, refused or unanswered probes mean "starting" for this long'),
};

export const serviceDefinitionSchema = z.looseObject({ name: serviceName, ...definitionShape });
export type ServiceDefinition = z.infer<typeof serviceDefinitionSchema>;
export type Probe = z.infer<typeof probeSchema>;
export type HttpProbe = z.infer<typeof httpProbeSchema>;
export type StatusProbe = z.infer<typeof statusProbeSchema>;
export type KeySource = z.infer<typeof keySourceSchema>;
export type AnswerRule = z.infer<typeof answerRuleSchema>;
export type Expect = z.infer<typeof expectSchema>;
export type Needs = z.infer<typeof needsSchema>;

/** The definition fields as the inventory gives them: all optional, `needs` field by field. */
export const serviceFields = {
  description: definitionShape.description,
  port: definitionShape.port,
  probe: probeSchema.optional(),
  status_probe: definitionShape.status_probe,
  key_source: definitionShape.key_source,
  state_dir: stateDir.optional().describe('Where its state lives (null: stateless)'),
  single_writer: z.boolean().optional().describe('Only one running copy may own the state'),
  needs: needsSchema.partial().optional().describe('Resources to reserve; each field overrides the catalog\'s'),
  prefers: definitionShape.prefers,
  affinity: definitionShape.affinity,
  systemd_unit: systemdUnit.optional(),
  metrics: definitionShape.metrics,
  start_grace_s: definitionShape.start_grace_s.optional(),
};
