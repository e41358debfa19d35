/**
 * The wire protocol between agents and the controller: HTTP bodies and the messages on the
 * agent's one outbound WebSocket. Every message is validated with these schemas on receipt;
 * anything else is refused, never trusted.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** What a heartbeat says about the box right now (volatile; never written to the inventory). */
export const loadSchema = z.object({
  load1: z.number().nonnegative(),
  cpuPercent: z.number().min(0).max(100),
  memoryUsedBytes: z.number().nonnegative(),
  memoryTotalBytes: z.number().nonnegative(),
  diskUsedBytes: z.number().nonnegative(),
  diskTotalBytes: z.number().nonnegative(),
});
export type Load = z.infer<typeof loadSchema>;

/**
 * A supervised service's state (src/supervisor/machine.ts): the probe verdicts, plus `failed`
 * (restart budget spent, left for failover) and `stopped` (not wanted here, or no lease).
 */
export const SERVICE_STATES = ['healthy', 'unhealthy', 'starting', 'unknown', 'misconfigured', 'failed', 'stopped'] as const;

/** The verdicts of a probe (src/services/schema.ts VERDICTS), repeated so the protocol imports nothing. */
export const STATUS_VERDICTS = ['healthy', 'starting', 'unhealthy', 'misconfigured'] as const;

/** What the service's authenticated status probe last said (src/supervisor/status.ts); never a key. */
export const serviceStatusSchema = z.object({
  verdict: z.enum(STATUS_VERDICTS),
  detail: z.string().max(500),
  /** When it answered, ms since the epoch (the agent's clock). */
  checkedAt: z.number(),
  version: z.string().max(64).optional(),
});
export type ServiceStatus = z.infer<typeof serviceStatusSchema>;

export const serviceProbeSchema = z.object({
  state: z.enum(SERVICE_STATES),
  detail: z.string().max(500).optional(),
  /** Absent when the agent has no key for the service, or its status probe has not run since the last (re)start. */
  status: serviceStatusSchema.optional(),
});

/**
 * One mount's health, as the agent's mount probe saw it (src/agent/mountinfo.ts classifies):
 * `ok` (healthy), `not-mounted` (nothing of its own mounted there), `missing` (no such path),
 * `stale` (ESTALE, or ENOTCONN from a FUSE mount whose daemon died), `io-error` (EIO),
 * `timeout` (no answer in time: a hung server), `error` (anything else, in `detail`).
 */
export const MOUNT_STATES = ['ok', 'not-mounted', 'missing', 'stale', 'io-error', 'timeout', 'error'] as const;
export type MountState = (typeof MOUNT_STATES)[number];

export const mountHealthSchema = z.object({
  /** The path probed: a network mount point, or a path the controller asked for (the media root). */
  path: z.string().max(4096),
  /** The mount the path is on, as /proc/self/mountinfo lists it; null when none matched. */
  mountPoint: z.string().max(4096).nullable(),
  source: z.string().max(4096).nullable(),
  fsType: z.string().max(64).nullable(),
  state: z.enum(MOUNT_STATES),
  /** `state` is `ok`: placement may put services that need this path here. */
  healthy: z.boolean(),
  mounted: z.boolean(),
  /** A stale file handle (ESTALE) or a dead FUSE connection (ENOTCONN). */
  stale: z.boolean(),
  freeBytes: z.number().nonnegative().nullable(),
  totalBytes: z.number().nonnegative().nullable(),
  detail: z.string().max(500).optional(),
  /** When the probe finished (ms since the epoch, the agent's clock). */
  checkedAt: z.number(),
});
export type MountHealth = z.infer<typeof mountHealthSchema>;

export const heartbeatSchema = z.object({
  type: z.literal('heartbeat'),
  seq: z.int().nonnegative(),
  sentAt: z.number(),
  load: loadSchema.optional(),
  services: z.record(z.string().max(64), serviceProbeSchema).default({}),
  /** Mount health, from agents that probe mounts; absent from older agents. */
  mounts: z.array(mountHealthSchema).max(64).optional(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const resultSchema = z.object({
  type: z.literal('result'),
  id: z.string().max(64),
  ok: z.boolean(),
  data: z.unknown().optional(),
  error: z.string().max(2000).optional(),
  /** The CisternError code of a failure, when it had one, and its hint. */
  code: z.string().max(64).optional(),
  hint: z.string().max(2000).optional(),
});
export type CommandResultMessage = z.infer<typeof resultSchema>;

/** The agent's own metrics listener (src/agent/metrics-server.ts), so Prometheus can be sent there. */
export const helloMetricsSchema = z.object({
  port: z.int().min(1).max(65535),
  /** The address it is bound to; absent or a wildcard: every address of the box. */
  host: z.string().max(255).optional(),
  /** SPKI PEM of the listener's TLS key: the controller signs a certificate for it. */
  publicKey: z.string().max(2000).includes('-----BEGIN PUBLIC KEY-----'),
});
export type HelloMetrics = z.infer<typeof helloMetricsSchema>;

export const helloSchema = z.object({
  type: z.literal('hello'),
  version: z.string().max(64),
  protocol: z.int(),
  /** Absent: the agent serves no metrics (`--no-metrics`, or an agent older than metrics). */
  metrics: helloMetricsSchema.optional(),
});

/** Something that happened on the box, for the controller's event log (the agent's supervisor: probe changes, restarts, failures). */
export const AGENT_EVENT_KINDS = ['service-state', 'service-started', 'service-stopped', 'service-restart', 'service-failed', 'service-action-failed', 'service-status'] as const;
export const agentEventSchema = z.object({
  type: z.literal('event'),
  kind: z.enum(AGENT_EVENT_KINDS),
  service: z.string().max(64),
  /** The agent's clock, ms since the epoch. */
  at: z.number(),
  data: z.record(z.string().max(64), z.unknown()).refine((d) => JSON.stringify(d).length <= 4_096, { error: 'at most 4 KiB of data' }),
});
export type AgentEvent = z.infer<typeof agentEventSchema>;

export const agentMessageSchema = z.discriminatedUnion('type', [heartbeatSchema, resultSchema, helloSchema, agentEventSchema]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

export const COMMAND_NAMES = ['ping', 'collect-facts', 'apply-authorized-keys', 'configure-metrics', 'set-services'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const commandSchema = z.object({
  type: z.literal('command'),
  id: z.string(),
  name: z.enum(COMMAND_NAMES),
  args: z.record(z.string(), z.unknown()).default({}),
  timeoutMs: z.int().positive(),
});
export type CommandMessage = z.infer<typeof commandSchema>;

export const ackSchema = z.object({
  type: z.literal('ack'),
  seq: z.int(),
  intervalMs: z.int().positive(),
  /** Paths whose mount health the controller wants besides the network mounts (the inventory's media root). */
  watch: z.array(z.string().max(4096)).max(16).optional(),
  /**
   * The leases this agent holds: service → epoch. A single-writer service runs only under a
   * lease, which lasts `leaseTtlMs` from this acknowledgement's arrival unless renewed.
   */
  leases: z.record(z.string().max(64), z.int().nonnegative()).optional(),
  leaseTtlMs: z.int().positive().optional(),
});

export const controllerMessageSchema = z.discriminatedUnion('type', [commandSchema, ackSchema]);
export type ControllerMessage = z.infer<typeof controllerMessageSchema>;

/** Arguments of the `configure-metrics` command: who may scrape the agent, and its certificate. */
export const configureMetricsSchema = z.object({
  /** SHA-256 (hex) of the fleet's scrape token; null while none was made. */
  scrapeTokenHash: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /** Signed by the controller's agents CA for the key the agent sent in its hello. */
  certPem: z.string().max(20_000).includes('-----BEGIN CERTIFICATE-----'),
});
export type ConfigureMetrics = z.infer<typeof configureMetricsSchema>;

export const registerRequestSchema = z.object({
  token: z.string().min(1).max(200),
  hostname: z.string().min(1).max(253),
  name: z.string().max(63).optional(),
  version: z.string().max(64),
  ageRecipient: z.string().regex(/^age1[0-9a-z]+$/).max(200),
  facts: z.record(z.string(), z.unknown()),
});
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export const registerResponseSchema = z.object({
  agentId: z.string(),
  name: z.string(),
  credential: z.string(),
  heartbeatIntervalMs: z.int().positive(),
});
export type RegisterResponse = z.infer<typeof registerResponseSchema>;

/**
 * A box started with `--discoverable` holds a connection to /v1/agent/pending and says who it
 * is; the controller answers with what it shows the admin, and, once approved, the credential
 * sealed with age to the box's own key, so only the box whose fingerprint was approved can open it.
 */
export const pendingHelloSchema = z.object({
  type: z.literal('pending-hello'),
  hostname: z.string().min(1).max(253),
  name: z.string().max(63).optional(),
  version: z.string().max(64),
  ageRecipient: z.string().regex(/^age1[0-9a-z]+$/).max(200),
  facts: z.record(z.string(), z.unknown()),
});
export type PendingHello = z.infer<typeof pendingHelloSchema>;

export const pendingMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pending-ack'), name: z.string(), fingerprint: z.string() }),
  z.object({ type: z.literal('approved'), agentId: z.string(), name: z.string(), sealedCredential: z.string(), heartbeatIntervalMs: z.int().positive() }),
  z.object({ type: z.literal('rejected'), reason: z.string().max(500) }),
]);
export type PendingMessage = z.infer<typeof pendingMessageSchema>;

/** Error bodies: a stable code, a message, and never a secret. */
export const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }) });
