/**
 * The agent's mount probe against a real FUSE mount (bindfs, from Debian), the nearest thing to a
 * network mount this machine has without leaving it (no NFS client or server in the kernel):
 * - the FUSE daemon stopped with SIGSTOP answers nothing, as a hung NFS server: `timeout`, and
 *   the agent's own process never blocks;
 * - the daemon killed leaves a dead mount whose calls fail with ENOTCONN, as a stale handle: `stale`.
 * ESTALE and EIO themselves cannot be produced here; their classification is tested with
 * injected errors (src/agent/mountinfo.test.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeMounts } from '../src/agent/mount-health.js';
import { tempDir } from '../src/testing/tmp.js';
import { run, runOk } from './support/process.js';

let daemon: number | undefined;
let mountPoint: string | undefined;

afterEach(async () => {
  // Unmount before tempDir's cleanup removes the folder: removing files under a hung mount would hang.
  if (daemon !== undefined) {
    try { process.kill(daemon, 'SIGCONT'); } catch { /* gone already */ }
    try { process.kill(daemon, 'SIGKILL'); } catch { /* gone already */ }
  }
  if (mountPoint) await run('umount', ['-l', mountPoint], { timeoutMs: 10_000 });
  daemon = undefined;
  mountPoint = undefined;
});

async function bindfsMount(): Promise<{ mnt: string; pid: number }> {
  if (process.getuid?.() !== 0) throw new Error('the mount health tests must run as root: they mount a FUSE filesystem');
  if (!existsSync('/dev/fuse')) throw new Error('the mount health tests need /dev/fuse');
  const dir = tempDir();
  const src = join(dir, 'src');
  const mnt = join(dir, 'mnt');
  mkdirSync(src);
  mkdirSync(mnt);
  writeFileSync(join(src, 'film.mkv'), 'frames');
  await runOk('bindfs', [src, mnt]);
  mountPoint = mnt;
  const pids = (await runOk('pgrep', ['-f', `^bindfs ${src} ${mnt}$`])).stdout.trim().split('\n').map(Number);
  if (pids.length !== 1 || !Number.isInteger(pids[0])) throw new Error(`expected one bindfs process, found ${pids.join(', ')}`);
  daemon = pids[0] as number;
  return { mnt, pid: daemon };
}

describe('mount health on a real FUSE mount', () => {
  it('is ok while the daemon answers, timeout while it is frozen, stale once it is dead', async () => {
    const { mnt, pid } = await bindfsMount();

    const [healthy] = await probeMounts([mnt], { timeoutMs: 5_000 });
    expect(healthy).toMatchObject({ path: mnt, state: 'ok', healthy: true, mounted: true, fsType: expect.stringMatching(/^fuse/) });
    expect(healthy?.totalBytes).toBeGreaterThan(0);

    process.kill(pid, 'SIGSTOP');
    const started = performance.now();
    const [frozen] = await probeMounts([mnt], { timeoutMs: 1_000 });
    const took = performance.now() - started;
    expect(frozen).toMatchObject({ state: 'timeout', healthy: false, mounted: true });
    expect(took).toBeLessThan(4_000);
    // The agent's own event loop and thread pool were never blocked: a timer fires on time.
    const tick = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(performance.now() - tick).toBeLessThan(500);

    process.kill(pid, 'SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The killed probe child may take a moment to leave the kernel; then rounds run again.
    let thawed = (await probeMounts([mnt], { timeoutMs: 5_000 }))[0];
    for (let i = 0; i < 10 && thawed?.state !== 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      thawed = (await probeMounts([mnt], { timeoutMs: 5_000 }))[0];
    }
    expect(thawed?.state).toBe('ok');

    process.kill(pid, 'SIGKILL');
    daemon = undefined;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [dead] = await probeMounts([mnt], { timeoutMs: 5_000 });
    expect(dead).toMatchObject({ state: 'stale', healthy: false, stale: true });
    expect(dead?.detail).toMatch(/^ENOTCONN/);
  });
});
