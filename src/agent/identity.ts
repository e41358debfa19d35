/**
 * The agent's state dir: its age identity (`age.key`, which secrets sent to this box are
 * encrypted to) and its credential from the controller (`credential.json`). Both are secrets:
 * files are 0600 in a 0700 folder, written whole or not at all, and no error ever quotes them.
 */
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CisternError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export const AGE_KEY_FILE = 'age.key';
export const CREDENTIAL_FILE = 'credential.json';
const DIR_MODE = 0o700;
const SECRET_MODE = 0o600;
const REREGISTER = 'remove it and register this agent again with a fresh join token';

export interface AgeKeyPair {
  /** `AGE-SECRET-KEY-1…`: never leaves this box. */
  identity: string;
  /** `age1…`: sent to the controller at registration. */
  recipient: string;
}

export const credentialSchema = z.object({
  agentId: z.string().min(1),
  token: z.string().min(1),
  controllerUrl: z.url(),
  caPem: z.string().includes('-----BEGIN CERTIFICATE-----'),
  caFingerprint: z.string().min(1),
});
export type Credential = z.infer<typeof credentialSchema>;
// Versioned so a later agent can migrate the file instead of asking to re-register.
const credentialFileSchema = credentialSchema.extend({ version: z.literal(1) });

export async function ensureStateDir(stateDir: string): Promise<void> {
  const created = await mkdir(stateDir, { recursive: true, mode: DIR_MODE }).catch((error: NodeJS.ErrnoException) => {
    throw new CisternError('E_AGENT_STATE', `cannot create the state folder ${stateDir}: ${error.code ?? error.message}`, {
      hint: 'check the state folder path and the permissions of its parent',
    });
  });
  // mkdir's mode passes through the umask; set it exactly on the folder we made. A folder that
  // already exists keeps its mode: the admin (or systemd's StateDirectory=) chose it.
  if (created !== undefined) await chmod(stateDir, DIR_MODE);
}

export async function loadOrCreateAgeIdentity(stateDir: string): Promise<AgeKeyPair> {
  await ensureStateDir(stateDir);
  const path = join(stateDir, AGE_KEY_FILE);
  const existing = await readSecret(path);
  if (existing !== undefined) return parseAgeKey(path, existing);
  // X25519 explicitly: generateIdentity() may switch to post-quantum keys the age CLI in the
  // lab and on older boxes cannot read.
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  // age-keygen's own layout, so `age -d -i age.key` works on the box.
  const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  if (await createExclusive(path, text, SECRET_MODE)) return { identity, recipient };
  // Another process made one first; use theirs so both agree on the recipient.
  return parseAgeKey(path, (await readSecret(path)) ?? '');
}

async function parseAgeKey(path: string, text: string): Promise<AgeKeyPair> {
  const identity = text.split('\n').map((line) => line.trim()).find((line) => line.startsWith('AGE-SECRET-KEY-'));
  if (identity === undefined) throw new CisternError('E_AGENT_STATE', `${path} holds no age identity`, { hint: REREGISTER });
  try {
    return { identity, recipient: await identityToRecipient(identity) };
  } catch {
    // No cause: the bech32 decoder quotes the key it failed on.
    throw new CisternError('E_AGENT_STATE', `${path} holds a damaged age identity`, { hint: REREGISTER });
  }
}

export async function saveCredential(stateDir: string, credential: Credential): Promise<void> {
  const parsed = credentialSchema.safeParse(credential);
  if (!parsed.success) throw new Error(`saveCredential: invalid fields ${fieldsOf(parsed.error)}`);
  await ensureStateDir(stateDir);
  const path = join(stateDir, CREDENTIAL_FILE);
  // writeFileAtomic keeps an existing file's mode, so tighten it before the new secret lands,
  // and after, in case a strict umask took bits off a new file.
  await chmod(path, SECRET_MODE).catch(() => undefined);
  await writeFileAtomic(path, `${JSON.stringify({ version: 1, ...parsed.data }, null, 2)}\n`, { mode: SECRET_MODE });
  await chmod(path, SECRET_MODE);
}

/** The saved credential, or undefined when this agent has not registered yet. */
export async function loadCredential(stateDir: string): Promise<Credential | undefined> {
  const path = join(stateDir, CREDENTIAL_FILE);
  const text = await readSecret(path);
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // No cause and no parser message: JSON.parse quotes the text around the error.
    throw new CisternError('E_AGENT_STATE', `${path} is not valid JSON`, { hint: REREGISTER });
  }
  const parsed = credentialFileSchema.safeParse(data);
  if (!parsed.success) {
    throw new CisternError('E_AGENT_STATE', `${path} is not a credential this agent can read (${fieldsOf(parsed.error)})`, { hint: REREGISTER });
  }
  const { version: _version, ...credential } = parsed.data;
  return credential;
}

/** Field paths only: zod messages are safe today, but values here are secrets. */
function fieldsOf(error: z.ZodError): string {
  return [...new Set(error.issues.map((issue) => issue.path.join('.') || '(whole file)'))].join(', ');
}

async function readSecret(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CisternError('E_FILE_READ', `cannot read ${path}: ${code ?? 'unknown error'}`, { hint: 'check the state folder and its permissions' });
  }
}

/**
 * Writes a new file whole, only if none exists. rename() would replace a file another process
 * just made; link() fails instead, so the first writer wins.
 */
async function createExclusive(path: string, data: string, mode: number): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.chmod(mode); // exactly, whatever the umask
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(tmp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(tmp, { force: true });
  }
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return true;
}
