/**
 * Disks and mounts, pure. Mounted filesystems come from systeminformation's fsSize (df); whole
 * disks from its blockDevices (lsblk) and from sysfs, which also tells which disk a partition is
 * on and whether it spins. Whole disks are listed even when unmounted, because ZFS and RAID
 * members never appear as mounts of their own, yet they are the disks a NAS is made of.
 */
import type { Systeminformation as Si } from 'systeminformation';
import { NOT_STORAGE } from './facts-parse.js';
import type { DiskFact } from './facts-schema.js';
import type { BlockProbe } from './linux-probe.js';

export interface DiskInputs {
  fsSize: Si.FsSizeData[];
  blockDevices: Si.BlockDevicesData[];
  blocks: BlockProbe[];
}

const bytes = (n: number | undefined): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0);
// Device-mapper and software RAID volumes sit on other disks; counting them would count twice.
const VIRTUAL = /^(dm-|md)\d/;

export function buildDisks({ fsSize, blockDevices, blocks }: DiskInputs): DiskFact[] {
  const byName = new Map(blocks.map((block) => [block.name, block]));
  const byDmName = new Map(blocks.flatMap((block) => (block.dmName === null ? [] : [[block.dmName, block] as const])));
  const blockFor = (device: string): BlockProbe | undefined =>
    device.startsWith('/dev/mapper/') ? byDmName.get(device.slice(12)) : device.startsWith('/dev/') ? byName.get(device.slice(5)) : undefined;

  const mounts = fsSize.map((fs): DiskFact => {
    const block = blockFor(fs.fs);
    return {
      device: fs.fs,
      disk: block ? `/dev/${block.disk}` : null,
      mount: fs.mount,
      fsType: fs.type || null,
      sizeBytes: bytes(fs.size),
      freeBytes: bytes(fs.available),
      rotational: block?.rotational ?? null,
    };
  });

  const lsblk = new Map(blockDevices.filter((device) => device.type === 'disk').map((device) => [device.name, device]));
  const names = new Set([...lsblk.keys(), ...blocks.filter((block) => block.name === block.disk).map((block) => block.name)]);
  const disks: DiskFact[] = [];
  for (const name of [...names].sort()) {
    const device = `/dev/${name}`;
    if (NOT_STORAGE.test(name) || VIRTUAL.test(name) || mounts.some((mount) => mount.device === device)) continue;
    const fromLsblk = lsblk.get(name);
    const probe = byName.get(name);
    const sizeBytes = bytes(fromLsblk?.size) || bytes(probe?.sizeBytes ?? undefined);
    if (sizeBytes === 0) continue; // an empty card reader slot
    disks.push({
      device,
      disk: device,
      mount: null,
      fsType: fromLsblk?.fsType || null,
      sizeBytes,
      freeBytes: null,
      rotational: probe?.rotational ?? (fromLsblk?.physical === 'HDD' ? true : fromLsblk?.physical === 'SSD' ? false : null),
    });
  }
  return [...mounts, ...disks];
}
