/**
 * Mount health end to end: a real controller with an inventory whose media root is a FUSE mount
 * (bindfs), and a real agent. The controller asks the agent to watch the media root, the agent
 * probes it and reports it with its heartbeats, and `cistern status` shows it — healthy first,
 * then stale once the FUSE daemon is killed (see test/mount-health.test.ts for why bindfs).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt } from './support/cistern.js';
import { FleetLab } from './support/fleet.js';
import { run, runOk } from './support/process.js';

beforeAll(() => assertBuilt());

describe('fleet: mount health', () => {
  let lab: FleetLab;
  let daemon: number | undefined;
  let mountPoint: string | undefined;
  beforeEach(() => { lab = new FleetLab(); });
  afterEach(async () => {
    if (daemon !== undefined) try { process.kill(daemon, 'SIGKILL'); } catch { /* gone */ }
    if (mountPoint) await run('umount', ['-l', mountPoint], { timeoutMs: 10_000 });
    daemon = undefined;
    mountPoint = undefined;
    await lab.cleanup();
  });

  it('the agent reports the inventory\'s media root, and status shows it going stale', { timeout: 60_000 }, async () => {
    if (process.getuid?.() !== 0 || !existsSync('/dev/fuse')) throw new Error('this test must run as root with /dev/fuse: it mounts a FUSE filesystem');
    const src = lab.dir('library');
    const media = lab.dir('media');
    mkdirSync(join(src, 'films'), { recursive: true });
    await runOk('bindfs', [src, media]);
    mountPoint = media;
    daemon = Number((await runOk('pgrep', ['-f', `^bindfs ${src} ${media}$`])).stdout.trim());

    const file = join(lab.dir('inventory'), 'inventory.yaml');
    writeFileSync(file, `servers:\n  tv:\n    hostname: tv.lan\n    services: [jellyfin]\nstorage:\n  media_root: ${media}\n`);
    const controller = await lab.startController({ inventory: file });
    const token = await lab.createToken(controller, { uses: 1 });
    const agent = lab.startAgent({ token, name: 'tv' });
    expect(await lab.waitRegistered(agent)).toBe('tv');

    const healthy = await lab.waitForServer(controller, 'tv', (s) => s.mounts?.some((m) => m.path === media && m.healthy) ?? false, { timeoutMs: 20_000 });
    expect(healthy.mounts?.find((m) => m.path === media)).toMatchObject({ state: 'ok', mounted: true, fsType: expect.stringMatching(/^fuse/) });

    process.kill(daemon, 'SIGKILL');
    daemon = undefined;
    // The agent probes every 15 s.
    const stale = await lab.waitForServer(controller, 'tv', (s) => s.mounts?.some((m) => m.path === media && m.state === 'stale') ?? false, { timeoutMs: 30_000 });
    expect(stale.health).toBe('healthy');
    const status = await lab.cli(controller, ['status']);
    expect(status.stdout).toContain(`mount tv: ${media} (${src}, fuse): stale — ENOTCONN`);
  });
});
