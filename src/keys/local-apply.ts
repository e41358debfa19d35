/**
 * The agent's `apply-authorized-keys`: the managed block of one user's ~/.ssh/authorized_keys,
 * written on the agent's own machine, with the same block logic as the SSH push.
 *
 * The user's home, uid and gid come from /etc/passwd. `.ssh` (0700) and the file (0600) are
 * created owned by the user when missing; an existing file keeps its owner and mode. The new
 * text replaces the old one atomically, so sshd reads the old file or the new one.
 *
 * The agent runs as root and writes in folders the user controls. So a symbolic link at `.ssh`
 * or at `authorized_keys` is refused, never followed, and `.ssh` is opened once without
 * following links and then used through that descriptor (/proc/self/fd/N): swapping it for a
 * link after the check cannot redirect the write.
 */
import { constants, existsSync, type Stats } from 'node:fs';
import { lstat, mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CisternError, isCisternError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { applyArgsSchema, type ApplyArgs, type ApplyResult } from './agent-command.js';
import { updateAuthorizedKeys } from './authorized-keys.js';
import { lookupUser, type PasswdEntry } from './passwd.js';

export interface LocalApplyOptions {
  /** The user database. Default /etc/passwd; tests give a file of their own. */
  passwdFile?: string;
  /** This process's effective uid. Default process.geteuid(); tests pretend not to be root. */
  euid?: number;
  /** Told about every change made. */
  logger?: Logger;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const errno = (error: unknown) => (error as NodeJS.ErrnoException).code;

function fsError(error: unknown, what: string): CisternError {
  if (isCisternError(error)) return error;
  const code = errno(error);
  return new CisternError('E_AUTHORIZED_KEYS', `cannot ${what}: ${code ?? (error as Error).message}`, {
    cause: error,
    ...(code === 'EACCES' || code === 'EPERM' ? { hint: 'the agent needs root to write another user\'s authorized_keys' } : {}),
  });
}

function linkRefusal(path: string, user: string): CisternError {
  return new CisternError('E_AUTHORIZED_KEYS',
    `${path} is a symbolic link, so Cistern will not write through it: the agent writes as root, and a link that ${user} controls `
    + 'could point that write at any file on the system (the reason sshd\'s StrictModes checks who owns each part of the path)',
    { hint: 'replace the link by the real folder or file, owned by the user' });
}

/** Why `path` (found by lstat, or gone) is not what Cistern can use. */
function notUsable(path: string, st: Stats | undefined, want: 'folder' | 'file', user: string): CisternError {
  if (st?.isSymbolicLink()) return linkRefusal(path, user);
  return new CisternError('E_AUTHORIZED_KEYS', st ? `${path} exists but is not a ${want === 'file' ? 'regular file' : 'folder'}` : `${path} disappeared while Cistern was using it`);
}

async function lstatOrNone(path: string, shown: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    throw fsError(error, `inspect ${shown}`);
  }
}

async function findUser(name: string, passwdFile: string): Promise<PasswdEntry> {
  let text: string;
  try {
    text = await readFile(passwdFile, 'utf8');
  } catch (error) {
    throw new CisternError('E_FILE_READ', `cannot read ${passwdFile}: ${errno(error) ?? (error as Error).message}`, { cause: error });
  }
  const found = lookupUser(text, name);
  if (found.found) return found.entry;
  if (found.malformedLine !== undefined) {
    throw new CisternError('E_USER_NOT_FOUND', `the line of user "${name}" in ${passwdFile} (line ${found.malformedLine}) is malformed`, { hint: 'fix it with vipw' });
  }
  throw new CisternError('E_USER_NOT_FOUND', `no user "${name}" in ${passwdFile}`, {
    hint: `create the user on the server, or set ssh.user of this server in the inventory; Cistern reads ${passwdFile} only, so users from LDAP or sssd are not seen (use --via ssh for them)`,
  });
}

interface PinnedDir { handle: FileHandle; path: string }

/** `.ssh`, opened without following links; created 0700 for `owner` when missing and `create`. */
async function openSshDir(dir: string, user: PasswdEntry, create: { owner: { uid: number; gid: number } | undefined } | undefined): Promise<PinnedDir | undefined> {
  const before = await lstatOrNone(dir, dir);
  if (before && !before.isDirectory()) throw notUsable(dir, before, 'folder', user.name);
  let created = false;
  if (!before) {
    if (!create) return undefined;
    try {
      await mkdir(dir, { mode: 0o700 });
      created = true;
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw fsError(error, `create ${dir}`);
    }
  }
  let handle: FileHandle;
  try {
    handle = await open(dir, DIR_FLAGS);
  } catch (error) {
    const code = errno(error);
    if (code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENOENT') throw notUsable(dir, await lstatOrNone(dir, dir), 'folder', user.name);
    throw fsError(error, `open ${dir}`);
  }
  try {
    if (created) {
      await handle.chmod(0o700); // mkdir's mode went through the umask
      if (create?.owner) await handle.chown(create.owner.uid, create.owner.gid);
    }
  } catch (error) {
    await handle.close();
    throw fsError(error, `give ${dir} to ${user.name}`);
  }
  // Without /proc (not a Linux agent), the checked path is the best there is.
  return { handle, path: existsSync('/proc/self/fd') ? `/proc/self/fd/${handle.fd}` : dir };
}

/** The current text of authorized_keys in the pinned `.ssh` ('' when missing). */
async function readCurrent(dir: PinnedDir, file: string, user: string): Promise<string> {
  const path = join(dir.path, 'authorized_keys');
  const st = await lstatOrNone(path, file);
  if (!st) return '';
  if (!st.isFile()) throw notUsable(file, st, 'file', user);
  let data: Buffer;
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      data = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (errno(error) === 'ELOOP') throw linkRefusal(file, user);
    throw fsError(error, `read ${file}`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new CisternError('E_AUTHORIZED_KEYS', `${file} is not UTF-8 text, so Cistern will not rewrite it`, { hint: 'check the file by hand' });
  }
}

/** Installs `args.keys` as the managed block of `args.user`'s authorized_keys. */
export async function applyAuthorizedKeysLocally(args: ApplyArgs, options: LocalApplyOptions = {}): Promise<ApplyResult> {
  const passwdFile = options.passwdFile ?? '/etc/passwd';
  const user = await findUser(args.user, passwdFile);
  const euid = options.euid ?? process.geteuid?.() ?? 0;
  if (euid !== 0 && euid !== user.uid) {
    throw new CisternError('E_AUTHORIZED_KEYS', `the agent runs as uid ${euid}, not root, so it cannot write the keys of ${user.name} (uid ${user.uid})`, {
      hint: 'run the agent as root, or sync this server with --via ssh',
    });
  }
  const owner = euid === 0 ? { uid: user.uid, gid: user.gid } : undefined;
  const home = await stat(user.home).catch(() => undefined);
  if (!home?.isDirectory()) {
    throw new CisternError('E_AUTHORIZED_KEYS', `the home folder of ${user.name}, ${user.home} (from ${passwdFile}), ${home ? 'is not a folder' : 'does not exist'}`, {
      hint: 'create it, owned by the user',
    });
  }
  const dir = join(user.home, '.ssh');
  const file = join(dir, 'authorized_keys');
  const names = args.keys.map((k) => k.name);
  // No folder and no keys: nothing to write, and no reason to create `.ssh`.
  const pinned = await openSshDir(dir, user, args.keys.length > 0 ? { owner } : undefined);
  if (!pinned) return { path: file, changed: false, added: [], removed: [], keys: names };
  try {
    const current = await readCurrent(pinned, file, user.name);
    let update;
    try {
      update = updateAuthorizedKeys(current, args.keys);
    } catch (error) {
      if (isCisternError(error)) throw new CisternError(error.code, `${file}: ${error.message}`, { hint: error.hint });
      throw error;
    }
    if (update.changed) {
      await writeFileAtomic(join(pinned.path, 'authorized_keys'), update.text, { mode: 0o600, owner }).catch((error: unknown) => {
        throw fsError(error, `write ${file}`);
      });
      options.logger?.info({ user: user.name, path: file, added: update.added.map((k) => k.name), removed: update.removed.map((k) => k.name ?? k.material) }, 'updated authorized_keys');
    }
    return {
      path: file, changed: update.changed, added: update.added,
      removed: update.removed.map((k) => ({ name: k.name ?? null, material: k.material })), keys: names,
    };
  } finally {
    await pinned.handle.close();
  }
}

/** The agent's command handler: arguments validated first, so bad ones are an error result. */
export async function applyAuthorizedKeysCommand(args: Record<string, unknown>, options: LocalApplyOptions = {}): Promise<ApplyResult> {
  const parsed = applyArgsSchema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CisternError('E_BAD_REQUEST', `apply-authorized-keys: args.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return applyAuthorizedKeysLocally(parsed.data, options);
}
