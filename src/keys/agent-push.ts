/**
 * `keys sync` through a server's agent: the controller relays `apply-authorized-keys` over the
 * agent's own connection and the agent writes the file itself. No SSH login and no host key:
 * that connection is TLS authenticated by the controller's CA.
 */
import { CisternError, ERROR_CODES, type ErrorCode } from '../errors.js';
import { APPLY_AUTHORIZED_KEYS, applyResultSchema, type ApplyArgs } from './agent-command.js';
import type { Applied, SyncTarget } from './sync.js';

/** The part of the CLI's API client this needs. */
export interface CommandClient {
  post<T>(path: string, body: unknown, options?: { timeoutMs?: number }): Promise<T>;
}

/** POST /v1/servers/:name/commands answers with this. */
interface CommandReply { ok: boolean; data: unknown; error: string | null; code?: string | null; hint?: string | null }

const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);

export async function applyViaAgent(client: CommandClient, target: SyncTarget, timeoutMs: number): Promise<Applied> {
  const args: ApplyArgs = { user: target.user, keys: target.keys };
  const reply = await client.post<CommandReply>(
    `/v1/servers/${encodeURIComponent(target.server)}/commands`,
    { name: APPLY_AUTHORIZED_KEYS, args, timeoutMs },
    { timeoutMs: timeoutMs + 5_000 },
  );
  if (!reply.ok) {
    const message = reply.error ?? 'failed without saying why';
    // The agent's own CisternError, code and hint kept; anything else is a bug in the agent.
    if (isErrorCode(reply.code)) throw new CisternError(reply.code, message, reply.hint ? { hint: reply.hint } : {});
    throw new Error(`the agent of ${target.server} failed: ${message}`);
  }
  const parsed = applyResultSchema.safeParse(reply.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`the agent of ${target.server} answered ${APPLY_AUTHORIZED_KEYS} with unexpected data (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`);
  }
  const data = parsed.data;
  return {
    path: data.path, changed: data.changed, added: data.added,
    removed: data.removed.map((k) => ({ name: k.name ?? undefined, material: k.material })),
    hostKey: null,
  };
}
