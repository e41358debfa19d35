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

export const serviceProbeSchema = z.object({
  state: z.enum(['healthy', 'unhealthy', 'starting', 'unknown']),
  detail: z.string().max(500).optional(),
});

export const heartbeatSchema = z.object({
  type: z.literal('heartbeat'),
  seq: z.int().nonnegative(),
  sentAt: z.number(),
  load: loadSchema.optional(),
  services: z.record(z.string().max(64), serviceProbeSchema).default({}),
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

export const helloSchema = z.object({
  type: z.literal('hello'),
  version: z.string().max(64),
  protocol: z.int(),
});

export const agentMessageSchema = z.discriminatedUnion('type', [heartbeatSchema, resultSchema, helloSchema]);
export type AgentMessage = z.infer<typeof agentMessageSchema>;

export const COMMAND_NAMES = ['ping', 'collect-facts', 'apply-authorized-keys'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const commandSchema = z.object({
  type: z.literal('command'),
  id: z.string(),
  name: z.enum(COMMAND_NAMES),
  args: z.record(z.string(), z.unknown()).default({}),
  timeoutMs: z.int().positive(),
});
export type CommandMessage = z.infer<typeof commandSchema>;

export const ackSchema = z.object({ type: z.literal('ack'), seq: z.int(), intervalMs: z.int().positive() });

export const controllerMessageSchema = z.discriminatedUnion('type', [commandSchema, ackSchema]);
export type ControllerMessage = z.infer<typeof controllerMessageSchema>;

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
