import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { factsSchema, type Facts } from './facts-schema.js';
import { intelN100, nasTwoDisks, qemuVm, ryzenNvidia } from './fixtures/pcs.js';
import { raspberryPi4, raspberryPi5 } from './fixtures/raspberry-pi.js';
import { detectProfile, effectiveProfile } from './profile.js';

const MACHINES = { raspberryPi4, raspberryPi5, intelN100, ryzenNvidia, qemuVm, nasTwoDisks };

describe('fixtures', () => {
  it.each(Object.entries(MACHINES))('%s is valid facts', (_name, facts) => {
    expect(factsSchema.parse(facts)).toEqual(facts);
  });
});

describe('detectProfile on real machines', () => {
  it.each([
    ['raspberryPi4', raspberryPi4, 'raspberry-pi', false, 'raspberry-pi: Raspberry Pi 4 Model B Rev 1.4'],
    ['raspberryPi5', raspberryPi5, 'raspberry-pi', false, 'raspberry-pi: Raspberry Pi 5 Model B Rev 1.0'],
    ['intelN100', intelN100, 'intel-quicksync', false, 'intel-quicksync: Intel UHD Graphics, /dev/dri/renderD128'],
    ['ryzenNvidia', ryzenNvidia, 'nvidia', false, 'nvidia: NVIDIA GeForce RTX 3060, NVENC'],
    ['qemuVm', qemuVm, 'generic', false, 'generic: no GPU with a render node'],
    [
      'nasTwoDisks',
      nasTwoDisks,
      'intel-quicksync',
      true,
      'intel-quicksync: Intel UHD Graphics 600, /dev/dri/renderD128; storage-heavy: 2 rotational disks (/dev/sda, /dev/sdb), 15.8 TB on data disks (/srv/disk1, /srv/disk2)',
    ],
  ] as const)('%s', (_name, facts, profile, storageHeavy, reason) => {
    expect(detectProfile(facts)).toEqual({ profile, storageHeavy, reason });
  });
});

const without = (facts: Facts, changes: Partial<Facts>): Facts => ({ ...facts, ...changes });

describe('detectProfile rules', () => {
  it('does not take the Pi’s v3d render node for a transcoder', () => {
    expect(detectProfile(without(raspberryPi4, { deviceModel: null }))).toEqual({
      profile: 'generic',
      storageHeavy: false,
      reason: 'generic: no Intel, AMD or NVIDIA GPU with a render node (found Broadcom VideoCore VI, /dev/dri/renderD128)',
    });
  });

  it('needs the NVIDIA driver for the nvidia profile', () => {
    const nouveau = without(ryzenNvidia, { transcoding: { ...ryzenNvidia.transcoding, nvenc: false } });
    expect(detectProfile(nouveau).profile).toBe('generic');
    expect(detectProfile(nouveau).reason).toContain('no NVIDIA driver loaded');
  });

  it('prefers NVIDIA over an Intel iGPU beside it', () => {
    const both = without(ryzenNvidia, { gpus: [...intelN100.gpus, ...ryzenNvidia.gpus] });
    expect(detectProfile(both).profile).toBe('nvidia');
  });

  it('picks amd-vaapi for an AMD GPU with a render node, and not without one', () => {
    const amd = without(qemuVm, { gpus: [{ vendor: 'amd', model: 'AMD Radeon 780M', renderNode: '/dev/dri/renderD128' }] });
    expect(detectProfile(amd).reason).toBe('amd-vaapi: AMD Radeon 780M, /dev/dri/renderD128');
    const noDriver = without(qemuVm, { gpus: [{ vendor: 'amd', model: 'AMD Radeon 780M', renderNode: null }] });
    expect(detectProfile(noDriver).reason).toBe('generic: no GPU with a render node (found AMD Radeon 780M, no render node)');
  });
});

const dataDisk = (mount: string, sizeBytes: number, extra: Partial<Facts['disks'][number]> = {}): Facts['disks'][number] => ({
  device: `/dev/${mount.slice(1).replace(/\//g, '-')}`, disk: null, mount, fsType: 'ext4', sizeBytes, freeBytes: 0, rotational: false, ...extra,
});
const withDisks = (...disks: Facts['disks']) => detectProfile(without(intelN100, { disks: [...intelN100.disks, ...disks] }));

describe('storage-heavy', () => {
  it('counts a formatted 2 TB data disk, not a 1 TB one', () => {
    expect(withDisks(dataDisk('/srv/media', 1_968_299_929_600))).toMatchObject({ storageHeavy: true });
    expect(withDisks(dataDisk('/srv/media', 983_350_091_776)).storageHeavy).toBe(false);
  });

  it('sums data disks', () => {
    const result = withDisks(dataDisk('/srv/a', 1e12), dataDisk('/srv/b', 1e12));
    expect(result.storageHeavy).toBe(true);
    expect(result.reason).toBe('intel-quicksync: Intel UHD Graphics, /dev/dri/renderD128; storage-heavy: 2.0 TB on data disks (/srv/a, /srv/b)');
  });

  it('does not count system mounts, memory, containers or FUSE pools', () => {
    const result = withDisks(
      dataDisk('/', 4e12),
      dataDisk('/nix/store', 4e12),
      dataDisk('/boot/efi', 4e12),
      dataDisk('/run/user/1000', 4e12, { fsType: 'tmpfs' }),
      dataDisk('/var/lib/docker/overlay2/x/merged', 4e12, { fsType: 'overlay' }),
      dataDisk('/srv/pool', 4e12, { fsType: 'fuse.mergerfs' }),
    );
    expect(result.storageHeavy).toBe(false);
  });

  it('counts a ZFS pool once, however many datasets it has', () => {
    const zfs = (dataset: string) => dataDisk(`/${dataset}`, 1.2e12, { device: dataset, fsType: 'zfs' });
    expect(withDisks(zfs('tank/media'), zfs('tank/backups'), zfs('tank/downloads')).storageHeavy).toBe(false);
  });

  it('counts two rotational disks, even unmounted ZFS members', () => {
    const member = (name: string) => ({ device: name, disk: name, mount: null, fsType: 'zfs_member', sizeBytes: 1e12, freeBytes: null, rotational: true });
    expect(withDisks(member('/dev/sda')).storageHeavy).toBe(false);
    expect(withDisks(member('/dev/sda'), member('/dev/sdb')).reason).toContain('storage-heavy: 2 rotational disks (/dev/sda, /dev/sdb)');
  });
});

describe('effectiveProfile', () => {
  it('takes hardware_profile from the inventory over the facts', () => {
    expect(effectiveProfile({ hardware_profile: 'nvidia' }, intelN100)).toEqual({ profile: 'nvidia', storageHeavy: false, reason: 'nvidia: set in inventory (hardware_profile)' });
    expect(effectiveProfile({ hardware_profile: 'intel-quicksync', hardware_type: 'raspberry-pi' }, undefined).profile).toBe('intel-quicksync');
  });

  it('takes hardware_type raspberry-pi next', () => {
    expect(effectiveProfile({ hardware_type: 'raspberry-pi', hardware_profile: 'auto' }, qemuVm)).toEqual({
      profile: 'raspberry-pi', storageHeavy: false, reason: 'raspberry-pi: set in inventory (hardware_type)',
    });
  });

  it('detects with auto, no setting or hardware_type generic', () => {
    expect(effectiveProfile({ hardware_profile: 'auto' }, ryzenNvidia).profile).toBe('nvidia');
    expect(effectiveProfile({}, raspberryPi5).profile).toBe('raspberry-pi');
    expect(effectiveProfile({ hardware_type: 'generic' }, intelN100).profile).toBe('intel-quicksync');
  });

  it('keeps the storage finding when the inventory sets the profile', () => {
    expect(effectiveProfile({ hardware_profile: 'generic' }, nasTwoDisks)).toMatchObject({ profile: 'generic', storageHeavy: true });
  });

  it('is generic with no facts yet', () => {
    expect(effectiveProfile({}, undefined)).toEqual({ profile: 'generic', storageHeavy: false, reason: 'generic: no facts yet' });
    expect(effectiveProfile({ hardware_profile: 'auto' }, undefined).reason).toBe('generic: no facts yet');
  });

  it('ignores a value the schema does not know', () => {
    expect(effectiveProfile({ hardware_profile: 'quantum' }, intelN100).profile).toBe('intel-quicksync');
  });
});

describe('purity', () => {
  it.each(['profile.ts', 'storage.ts', 'facts-parse.ts', 'facts-build.ts', 'facts-disks.ts', 'facts-schema.ts'])('%s imports no I/O', (file) => {
    const source = readFileSync(new URL(file, import.meta.url), 'utf8');
    const valueImports = [...source.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map((m) => m[1]);
    expect(valueImports.filter((name) => /^node:|linux-probe|si-worker|systeminformation/.test(name ?? ''))).toEqual([]);
  });
});
