/**
 * Installs the managed block of one server's authorized_keys over SSH (the `ssh2` library):
 * connect as the deploy user with the admin's key (a file or ssh-agent), check the host key
 * against Cistern's known_hosts, read `~/.ssh/authorized_keys` over SFTP (missing = empty),
 * and when the block changes, write the new text to a temporary file in `~/.ssh` (mode 0600;
 * `~/.ssh` is created 0700 when missing), flush it, and rename it over the old file with
 * OpenSSH's posix-rename, so sshd sees the old file or the new one, never a torn one.
 *
 * Every failure is a CisternError naming the stage; the whole push is bounded by one deadline.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import ssh2, { type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { CisternError, isCisternError } from '../errors.js';
import { updateAuthorizedKeys, type BlockKey, type ManagedKey } from './authorized-keys.js';
import type { HostKeyCheck, KnownHosts } from './known-hosts.js';

export interface PushTarget {
  server: string;
  host: string;
  port: number;
  user: string;
}

export type SshAuth = { kind: 'identity'; file: string; privateKey: Buffer } | { kind: 'agent'; socket: string };

export interface PushOptions {
  keys: readonly ManagedKey[];
  auth: SshAuth;
  knownHosts: KnownHosts;
  /** For the whole push: connection, authentication, read and write. */
  timeoutMs: number;
}

export interface PushResult {
  /** The remote file, e.g. /home/deploy/.ssh/authorized_keys. */
  path: string;
  changed: boolean;
  added: ManagedKey[];
  removed: BlockKey[];
  hostKey: HostKeyCheck;
}

/** The admin's credential: `--identity FILE`, else the agent at $SSH_AUTH_SOCK. */
export async function loadSshAuth(identity: string | undefined, env: NodeJS.ProcessEnv): Promise<SshAuth> {
  if (identity === undefined) {
    const socket = env.SSH_AUTH_SOCK;
    if (socket) return { kind: 'agent', socket };
    throw new CisternError('E_SSH_IDENTITY', 'no SSH credential to log in with: no --identity and no ssh-agent ($SSH_AUTH_SOCK is not set)', {
      hint: 'pass --identity ~/.ssh/id_ed25519, or start ssh-agent and `ssh-add` your key',
    });
  }
  let privateKey: Buffer;
  try {
    privateKey = await readFile(identity);
  } catch (error) {
    throw new CisternError('E_SSH_IDENTITY', `cannot read the identity file ${identity}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    throw new CisternError('E_SSH_IDENTITY', `${identity} is not a usable private key: ${encrypted ? 'it is protected by a passphrase' : parsed.message}`, {
      hint: encrypted ? `load it into ssh-agent (\`ssh-add ${identity}\`) and run without --identity` : 'give the private key file (not the .pub)',
    });
  }
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first?.isPrivateKey()) {
    throw new CisternError('E_SSH_IDENTITY', `${identity} is a public key`, { hint: 'give the private key file (not the .pub)' });
  }
  return { kind: 'identity', file: identity, privateKey };
}

const describeAuth = (auth: SshAuth) => (auth.kind === 'identity' ? `the key ${auth.file}` : 'the keys of ssh-agent');
const NETWORK_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

interface Ssh2Error extends Error { level?: string; code?: string | number }

function connectionError(error: Ssh2Error, target: PushTarget, auth: SshAuth, hostKeysPinned: boolean): CisternError {
  const where = `${target.host}:${target.port}`;
  if (error.level === 'client-authentication') {
    return new CisternError('E_SSH_AUTH', `${target.user}@${where} refused ${describeAuth(auth)}`, {
      hint: `authorize the admin's key for ${target.user} first (e.g. ssh-copy-id), or set ssh.user of ${target.server}`,
    });
  }
  if (error.level === 'client-timeout') return new CisternError('E_SSH_TIMEOUT', `${where} did not complete the SSH handshake in time`);
  if (error.level === 'agent') return new CisternError('E_SSH_IDENTITY', `ssh-agent at ${auth.kind === 'agent' ? auth.socket : '?'}: ${error.message}`);
  if (typeof error.code === 'string' && NETWORK_CODES.has(error.code)) {
    return new CisternError('E_SSH_CONNECT', `${error.code}: cannot connect to ${where}`, { cause: error });
  }
  if (error.level === 'handshake' && hostKeysPinned && /host key/i.test(error.message)) {
    return new CisternError('E_HOST_KEY_CHANGED', `${where} no longer offers a host key of the type Cistern pinned (${error.message})`, {
      hint: 'if the server was reinstalled, remove its line from cistern\'s known_hosts',
    });
  }
  return new CisternError('E_SSH_CONNECT', `SSH to ${where} failed: ${error.message}`, { cause: error });
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;

function sftpError(error: Ssh2Error, what: string): CisternError {
  return new CisternError('E_SSH_SFTP', `cannot ${what}: ${error.message}`, { cause: error });
}

/** Runs one SFTP request; a failure becomes E_SSH_SFTP saying what was being done. */
function sftpCall<T>(what: string, call: (done: (error: Ssh2Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      call((error, value) => (error ? reject(sftpError(error, what)) : resolve(value as T)));
    } catch (error) {
      reject(sftpError(error as Error, what));
    }
  });
}

async function readRemote(sftp: SFTPWrapper, file: string): Promise<string> {
  const link = await new Promise<boolean>((resolve, reject) => {
    sftp.lstat(file, (error: Ssh2Error | undefined, st) => {
      if (!error) resolve(st.isSymbolicLink());
      else if (error.code === NO_SUCH_FILE) resolve(false);
      else reject(sftpError(error, `inspect ${file}`));
    });
  });
  // Replacing a symbolic link by a file would silently detach whatever it points to.
  if (link) throw new CisternError('E_AUTHORIZED_KEYS', `${file} is a symbolic link, so Cistern will not replace it`, { hint: 'make it a regular file, or manage the file it points to by hand' });
  const data = await new Promise<Buffer | undefined>((resolve, reject) => {
    sftp.readFile(file, (error: Ssh2Error | undefined, buffer: Buffer) => {
      if (!error) resolve(buffer);
      else if (error.code === NO_SUCH_FILE) resolve(undefined);
      else reject(sftpError(error, `read ${file}`));
    });
  });
  if (data === undefined) return '';
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw new CisternError('E_AUTHORIZED_KEYS', `${file} is not UTF-8 text, so Cistern will not rewrite it`, { hint: 'check the file by hand' });
  }
}

async function ensureSshDir(sftp: SFTPWrapper, dir: string): Promise<void> {
  const stats = await new Promise<{ isDirectory(): boolean } | undefined>((resolve, reject) => {
    sftp.stat(dir, (error: Ssh2Error | undefined, st) => {
      if (!error) resolve(st);
      else if (error.code === NO_SUCH_FILE) resolve(undefined);
      else reject(sftpError(error, `inspect ${dir}`));
    });
  });
  if (stats?.isDirectory()) return;
  if (stats) throw new CisternError('E_SSH_SFTP', `${dir} exists but is not a folder`);
  await sftpCall(`create ${dir}`, (done) => sftp.mkdir(dir, { mode: 0o700 }, done));
  await sftpCall(`chmod ${dir}`, (done) => sftp.chmod(dir, 0o700, done)); // the server's umask applied to mkdir
}

/** Writes `text` to `file` through a temporary file and an atomic rename. */
async function replaceRemote(sftp: SFTPWrapper, file: string, text: string): Promise<void> {
  const tmp = posix.join(posix.dirname(file), `.${posix.basename(file)}.cistern-${randomBytes(6).toString('hex')}.tmp`);
  const data = Buffer.from(text, 'utf8');
  const handle = await sftpCall<Buffer>(`create ${tmp}`, (done) => sftp.open(tmp, 'wx', { mode: 0o600 }, done));
  let renamed = false;
  try {
    try {
      await sftpCall(`chmod ${tmp}`, (done) => sftp.fchmod(handle, 0o600, done));
      for (let at = 0; at < data.length;) {
        const written = await sftpCall<number | undefined>(`write ${tmp}`, (done) => sftp.write(handle, data, at, data.length - at, at, done));
        at += written === undefined || written <= 0 ? data.length - at : written;
      }
      // fsync@openssh.com: the content is on disk before the rename makes it the real file.
      // A server without the extension (ssh2 throws at once) still gets the atomic rename.
      await sftpCall(`flush ${tmp}`, (done) => {
        try {
          sftp.ext_openssh_fsync(handle, (error) => done(error));
        } catch {
          done(undefined);
        }
      });
    } finally {
      await sftpCall(`close ${tmp}`, (done) => sftp.close(handle, done));
    }
    // Plain SFTP rename refuses to replace a file; posix-rename@openssh.com is rename(2).
    await sftpCall(`rename ${tmp} to ${file}`, (done) => sftp.ext_openssh_rename(tmp, file, done));
    renamed = true;
  } finally {
    if (!renamed) await sftpCall('remove the temporary file', (done) => sftp.unlink(tmp, done)).catch(() => undefined);
  }
}

export async function pushAuthorizedKeys(target: PushTarget, options: PushOptions): Promise<PushResult> {
  const { knownHosts, auth } = options;
  const algorithms = await knownHosts.algorithms(target.host, target.port);
  const client = new ssh2.Client();
  let stage = 'connecting';
  let hostKey: HostKeyCheck | undefined;
  let hostKeyError: unknown;
  // After 'ready', a late connection error must not become an unhandled 'error' event.
  client.on('error', () => undefined);

  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: options.timeoutMs,
    ...(auth.kind === 'identity' ? { privateKey: auth.privateKey } : { agent: auth.socket }),
    ...(algorithms && { algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } }),
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
      stage = 'checking the host key';
      knownHosts.verify(target.host, target.port, key).then(
        (check) => { hostKey = check; stage = 'authenticating'; verify(true); },
        (error: unknown) => { hostKeyError = error; verify(false); },
      );
    },
  };

  const work = async (): Promise<PushResult> => {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', (error: Ssh2Error) => reject(hostKeyError ?? connectionError(error, target, auth, algorithms !== undefined)));
      client.connect(config);
    });
    stage = 'opening SFTP';
    const sftp = await sftpCall<SFTPWrapper>('open an SFTP session', (done) => client.sftp(done));
    stage = 'finding the home folder';
    const home = await sftpCall<string>('find the home folder', (done) => sftp.realpath('.', done));
    const dir = posix.join(home, '.ssh');
    const file = posix.join(dir, 'authorized_keys');
    stage = `reading ${file}`;
    const current = await readRemote(sftp, file);
    let update;
    try {
      update = updateAuthorizedKeys(current, options.keys);
    } catch (error) {
      if (isCisternError(error)) throw new CisternError(error.code, `${file}: ${error.message}`, { hint: error.hint });
      throw error;
    }
    if (update.changed) {
      stage = `writing ${file}`;
      await ensureSshDir(sftp, dir);
      await replaceRemote(sftp, file, update.text);
    }
    if (!hostKey) throw new Error('connected without a host key check');
    return { path: file, changed: update.changed, added: update.added, removed: update.removed, hostKey };
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new CisternError('E_SSH_TIMEOUT', `${target.host}:${target.port} did not finish in ${options.timeoutMs} ms (while ${stage})`, {
        hint: 'check the server, or raise --timeout',
      }));
      client.destroy();
    }, options.timeoutMs);
  });
  const running = work();
  running.catch(() => undefined); // when the deadline wins, the abandoned work may still fail
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
    client.end();
  }
}
