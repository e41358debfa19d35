import { describe, expect, it } from 'vitest';
import { NIXOS_CLIENT } from './fixtures/mountinfo.js';
import { classifyMount, mountFor, parseMountinfo, watchList, type MountEntry, type ProbeOutcome } from './mountinfo.js';

const entries = parseMountinfo(NIXOS_CLIENT);

describe('parseMountinfo', () => {
  it('reads every well-formed line, optional fields and all, and skips the rest', () => {
    expect(entries).toHaveLength(13);
    expect(entries.find((e) => e.id === 95)).toEqual({
      id: 95, parentId: 31, root: '/', mountPoint: '/mnt/media', options: 'rw,noatime', fsType: 'nfs4', source: '192.168.1.10:/mnt/media',
    });
    // Two optional fields (shared:24 master:7) before the separator.
    expect(entries.find((e) => e.id === 34)).toMatchObject({ fsType: 'fuse.sshfs', source: 'admin@far:/srv' });
  });

  it('decodes octal escapes in paths', () => {
    expect(entries.find((e) => e.id === 35)).toMatchObject({ root: '/films', mountPoint: '/srv/My Films' });
  });

  it('reads the machine\'s own /proc/self/mountinfo shape (no optional fields)', () => {
    expect(parseMountinfo('27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard')).toEqual([
      { id: 27, parentId: 1, root: '/', mountPoint: '/', options: 'rw,relatime', fsType: 'ext4', source: '/dev/vda' },
    ]);
  });
});

describe('mountFor', () => {
  it.each([
    ['/mnt/media', 95, 'the NFS mount on top of the automount trigger'],
    ['/mnt/media/tv/show', 95, 'a path inside it'],
    ['/mnt/archive', 32, 'an automount that has not fired'],
    ['/srv/data/x', 30, 'a data disk'],
    ['/srv/My Films/a', 35, 'an escaped mount point'],
    ['/srv/other', 22, 'the root filesystem'],
    ['/mnt/mediax', 22, 'a sibling with a common prefix is not inside'],
  ])('%s is on mount %i (%s)', (path, id) => {
    expect(mountFor(entries, path)?.id).toBe(id);
  });
});

describe('watchList', () => {
  it('is every network mount and the asked paths, normalized, sorted, once', () => {
    expect(watchList(entries, ['/mnt/media/', '/srv//data', 'relative'])).toEqual(['/mnt/media', '/mnt/remote', '/mnt/share', '/srv/data']);
  });
});

describe('classifyMount', () => {
  const nfs = entries.find((e) => e.id === 95) as MountEntry;
  const root = entries.find((e) => e.id === 22) as MountEntry;
  const trigger = entries.find((e) => e.id === 32) as MountEntry;
  const ok: ProbeOutcome = { kind: 'ok', freeBytes: 1e12, totalBytes: 4e12 };
  const error = (code: string): ProbeOutcome => ({ kind: 'error', code, message: `${code}: stat failed` });

  it.each<[string, MountEntry | undefined, ProbeOutcome, string, boolean, boolean]>([
    ['a mounted, answering NFS mount', nfs, ok, 'ok', true, false],
    ['a stale NFS file handle', nfs, error('ESTALE'), 'stale', false, true],
    ['a FUSE mount whose daemon died', nfs, error('ENOTCONN'), 'stale', false, true],
    ['an I/O error (soft mount, dead server)', nfs, error('EIO'), 'io-error', false, false],
    ['a hung server', nfs, { kind: 'timeout', afterMs: 5000 }, 'timeout', false, false],
    ['a missing path', root, error('ENOENT'), 'missing', false, false],
    ['permission denied', nfs, error('EACCES'), 'error', false, false],
    ['a media root that fell back to the root filesystem', root, ok, 'not-mounted', false, false],
    ['an automount trigger with nothing on it', trigger, ok, 'not-mounted', false, false],
  ])('%s', (_name, entry, outcome, state, healthy, stale) => {
    const health = classifyMount('/mnt/media', entry, outcome, 1_000);
    expect({ state: health.state, healthy: health.healthy, stale: health.stale }).toEqual({ state, healthy, stale });
    expect(health.checkedAt).toBe(1_000);
    if (!healthy) expect(health.detail).toBeTruthy();
  });

  it('reports what is mounted and its space', () => {
    expect(classifyMount('/mnt/media', nfs, ok, 5)).toEqual({
      path: '/mnt/media', mountPoint: '/mnt/media', source: '192.168.1.10:/mnt/media', fsType: 'nfs4', mounted: true,
      state: 'ok', healthy: true, stale: false, freeBytes: 1e12, totalBytes: 4e12, checkedAt: 5,
    });
  });
});
