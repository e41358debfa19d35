/**
 * The `apply-authorized-keys` agent command on the wire: the arguments the CLI sends through the
 * controller, and the data the agent answers with. The agent validates the arguments (it runs as
 * root and writes a login file: nothing but one-line public keys goes in); the CLI validates
 * the answer.
 */
import { z } from 'zod';
import { NAME } from '../inventory/schema.js';
import { parsePublicKey } from './public-key.js';

export const APPLY_AUTHORIZED_KEYS = 'apply-authorized-keys';

/** What useradd(8) accepts, case aside: no "/", ":", spaces or line breaks can reach a path. */
const USER = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*\$?$/;

export const applyArgsSchema = z.object({
  user: z.string().max(256).regex(USER, { error: 'a user name: letters, digits, "_", "." and "-"' }),
  keys: z.array(z.object({
    name: z.string().max(256).regex(NAME, { error: 'a key name: letters, digits, ".", "_" and "-"' }),
    key: z.string().max(16_384).superRefine((line, ctx) => {
      const parsed = parsePublicKey(line);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `not an OpenSSH public key line: ${parsed.reason}` });
    }),
  })).max(1_000),
});
export type ApplyArgs = z.infer<typeof applyArgsSchema>;

export const applyResultSchema = z.object({
  /** The file on the server, e.g. /home/deploy/.ssh/authorized_keys. */
  path: z.string(),
  changed: z.boolean(),
  added: z.array(z.object({ name: z.string(), key: z.string() })),
  /** Keys that left the block; `name` is null for a key that had no `# key:` line. */
  removed: z.array(z.object({ name: z.string().nullable(), material: z.string() })),
  /** Names of the keys the block holds now. */
  keys: z.array(z.string()),
});
export type ApplyResult = z.infer<typeof applyResultSchema>;
