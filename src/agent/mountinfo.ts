/**
 * Mounts as the kernel lists them in /proc/self/mountinfo, and what a probe of a mount point
 * means. Pure: the reader and the probe live in mount-health.ts.
 *
 * A mountinfo line (proc(5)): `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
 * — mount id, parent id, major:minor, root, mount point, options, optional fields ended by `-`,
 * then filesystem type, source, super options. Spaces, tabs, newlines and backslashes in paths
 * are written as octal escapes (`\040`).
 */
import type { MountHealth, MountState } from '../protocol/messages.js';

export interface MountEntry {
  id: number;
  parentId: number;
  root: string;
  mountPoint: string;
  options: string;
  fsType: string;
  source: string;
}

/** Filesystems whose data is on another box. */
export const NETWORK_FS = new Set([
  'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', 'afs', 'ncpfs',
  'fuse.sshfs', 'fuse.glusterfs', 'fuse.rclone', 'fuse.s3fs', 'fuse.ceph', 'fuse.davfs', 'davfs',
]);

function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Lines that do not have the documented shape are skipped, never guessed at. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash === -1 || fields.length < dash + 3) continue;
    const id = Number(fields[0]);
    const parentId = Number(fields[1]);
    if (!Number.isInteger(id) || !Number.isInteger(parentId)) continue;
    entries.push({
      id,
      parentId,
      root: unescapeOctal(fields[3] ?? ''),
      mountPoint: unescapeOctal(fields[4] ?? ''),
      options: fields[5] ?? '',
      fsType: fields[dash + 1] ?? '',
      source: unescapeOctal(fields[dash + 2] ?? ''),
    });
  }
  return entries;
}

const within = (path: string, dir: string) => path === dir || dir === '/' || path.startsWith(`${dir}/`);

/**
 * The mount a path is on: the deepest mount point holding it, and of several mounts on one point
 * the last listed, which is the one on top (an NFS mount over systemd's autofs trigger).
 */
export function mountFor(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const entry of entries) {
    if (!within(path, entry.mountPoint)) continue;
    if (!found || entry.mountPoint.length >= found.mountPoint.length) found = entry;
  }
  return found;
}

export function isNetworkMount(entry: MountEntry): boolean {
  return NETWORK_FS.has(entry.fsType);
}

/** The paths to probe: every network mount point, and the paths asked for (the media root). */
export function watchList(entries: readonly MountEntry[], asked: readonly string[]): string[] {
  const paths = new Set<string>();
  for (const entry of entries) if (isNetworkMount(entry)) paths.add(entry.mountPoint);
  for (const path of asked) {
    const normal = `/${path.split('/').filter((p) => p !== '' && p !== '.').join('/')}`;
    if (path.startsWith('/')) paths.add(normal);
  }
  return [...paths].sort();
}

/** What the probe (stat, then statfs, in a child process) came back with. */
export type ProbeOutcome =
  | { kind: 'ok'; freeBytes: number; totalBytes: number }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'timeout'; afterMs: number; detail?: string };

const ERROR_STATES: Record<string, MountState> = {
  ENOENT: 'missing',
  ENOTDIR: 'missing',
  // A stale NFS file handle; ENOTCONN is a FUSE filesystem (sshfs, rclone) whose daemon is gone.
  ESTALE: 'stale',
  ENOTCONN: 'stale',
  // A soft NFS mount whose server stopped answering, or a failing disk.
  EIO: 'io-error',
};

/**
 * One mount's health. Healthy means the path answered within the time limit and is a mount of
 * its own: a media root that fell back to the root filesystem (the disk or the NFS mount did
 * not come up) would fill the system disk, so it counts as not mounted. An autofs trigger with
 * nothing mounted on it is not mounted either.
 */
export function classifyMount(path: string, entry: MountEntry | undefined, outcome: ProbeOutcome, checkedAt: number): MountHealth {
  const mounted = entry !== undefined && entry.mountPoint !== '/' && entry.fsType !== 'autofs';
  const base = {
    path,
    mountPoint: entry?.mountPoint ?? null,
    source: entry?.source ?? null,
    fsType: entry?.fsType ?? null,
    mounted,
    freeBytes: null,
    totalBytes: null,
    checkedAt,
  };
  if (outcome.kind === 'timeout') {
    return { ...base, state: 'timeout', healthy: false, stale: false, detail: outcome.detail ?? `no answer within ${outcome.afterMs} ms: the server or disk behind it is hung` };
  }
  if (outcome.kind === 'error') {
    const state = ERROR_STATES[outcome.code] ?? 'error';
    return { ...base, state, healthy: false, stale: state === 'stale', detail: `${outcome.code}: ${outcome.message}`.slice(0, 500) };
  }
  const bytes = { freeBytes: outcome.freeBytes, totalBytes: outcome.totalBytes };
  if (!mounted) {
    const where = entry?.fsType === 'autofs' ? 'an automount point with nothing mounted on it' : 'on the root filesystem, not a mount of its own';
    return { ...base, ...bytes, state: 'not-mounted', healthy: false, stale: false, detail: `${path} is ${where}` };
  }
  return { ...base, ...bytes, state: 'ok', healthy: true, stale: false };
}
