import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/tmp.js';
import { NIXOS_CLIENT } from './fixtures/mountinfo.js';
import { mountMonitor, probeMounts, runChildProbe } from './mount-health.js';
import type { ProbeOutcome } from './mountinfo.js';

describe('probeMounts', () => {
  it('probes the network mounts and the asked paths, and classifies each answer', async () => {
    const asked: string[][] = [];
    const answers: Record<string, ProbeOutcome> = {
      '/mnt/media': { kind: 'error', code: 'ESTALE', message: 'Stale file handle' },
      '/mnt/remote': { kind: 'error', code: 'ENOTCONN', message: 'Transport endpoint is not connected' },
      '/mnt/share': { kind: 'timeout', afterMs: 50 },
      '/srv/data': { kind: 'ok', freeBytes: 1, totalBytes: 2 },
    };
    const health = await probeMounts(['/srv/data'], {
      readMountinfo: async () => NIXOS_CLIENT,
      runProbe: async (paths) => { asked.push([...paths]); return paths.map((p) => answers[p] as ProbeOutcome); },
      now: () => 42,
    });
    expect(asked).toEqual([['/mnt/media', '/mnt/remote', '/mnt/share', '/srv/data']]);
    expect(health.map((h) => [h.path, h.state, h.healthy, h.fsType])).toEqual([
      ['/mnt/media', 'stale', false, 'nfs4'],
      ['/mnt/remote', 'stale', false, 'fuse.sshfs'],
      ['/mnt/share', 'timeout', false, 'cifs'],
      ['/srv/data', 'ok', true, 'ext4'],
    ]);
  });

  it('reads mountinfo again after the probe, which may have fired an automount', async () => {
    const before = '22 1 259:2 / / rw - ext4 /dev/root rw\n31 22 0:40 / /mnt/media rw - autofs systemd-1 rw';
    const after = `${before}\n95 31 0:52 / /mnt/media rw - nfs4 10.0.0.2:/mnt/media rw`;
    let reads = 0;
    const [health] = await probeMounts(['/mnt/media'], {
      readMountinfo: async () => (reads++ === 0 ? before : after),
      runProbe: async (paths) => paths.map(() => ({ kind: 'ok', freeBytes: 1, totalBytes: 2 })),
    });
    expect(health).toMatchObject({ path: '/mnt/media', state: 'ok', fsType: 'nfs4', source: '10.0.0.2:/mnt/media' });
  });
});

describe('runChildProbe (a real child process)', () => {
  it('answers with space for a directory and the error code for a missing path', async () => {
    const dir = tempDir();
    const [found, missing] = await runChildProbe([dir, `${dir}/nope`], 10_000);
    expect(found).toMatchObject({ kind: 'ok' });
    expect(found?.kind === 'ok' && found.totalBytes > 0).toBe(true);
    expect(missing).toMatchObject({ kind: 'error', code: 'ENOENT' });
  });

  it('gives up after the time limit and kills the child', async () => {
    // 1 ms is shorter than a Node child takes to start, so no answer can come in time.
    const [outcome] = await runChildProbe([tempDir()], 1);
    expect(outcome).toEqual({ kind: 'timeout', afterMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The killed child is gone, so the next round runs normally.
    expect((await runChildProbe([tempDir()], 10_000))[0]?.kind).toBe('ok');
  });
});

describe('mountMonitor', () => {
  it('has nothing to report until its first round, and probes again when the watched paths change', async () => {
    const rounds: string[][] = [];
    const monitor = mountMonitor({
      readMountinfo: async () => '22 1 259:2 / / rw - ext4 /dev/root rw\n30 22 8:17 / /srv/media rw - ext4 /dev/sdb1 rw',
      runProbe: async (paths) => { rounds.push([...paths]); return paths.map(() => ({ kind: 'ok', freeBytes: 1, totalBytes: 2 })); },
    });
    expect(monitor.latest()).toBeUndefined();
    expect(await monitor.refresh()).toEqual([]);
    expect(monitor.latest()).toEqual([]);
    monitor.watch(['/srv/media']);
    monitor.watch(['/srv/media']);
    await monitor.refresh();
    expect(rounds).toEqual([[], ['/srv/media']]);
    expect(monitor.latest()?.map((h) => [h.path, h.state])).toEqual([['/srv/media', 'ok']]);
  });

  it('keeps the last results when a round fails', async () => {
    let fail = false;
    const monitor = mountMonitor({
      readMountinfo: async () => { if (fail) throw new Error('no /proc'); return '22 1 259:2 / / rw - ext4 /dev/root rw'; },
      runProbe: async () => [],
    });
    await monitor.refresh();
    fail = true;
    expect(await monitor.refresh()).toEqual([]);
    expect(monitor.latest()).toEqual([]);
  });
});
