/**
 * Is this box a storage box? Pure: reads only the disks in its facts. Placement prefers
 * storage-heavy boxes for downloads and media libraries.
 */
import type { DiskFact } from './facts-schema.js';

export interface StorageSummary {
  /** Capacity of mounted data filesystems (not the system's own mounts). */
  dataBytes: number;
  dataMounts: string[];
  /** Distinct whole disks the kernel reports as rotational. */
  rotationalDisks: string[];
  heavy: boolean;
}

// "At least 2 TB": a drive sold as 2 TB holds 2.0e12 bytes but its filesystem reports about
// 1.97e12 once formatted, so the bar sits a little below the label.
export const HEAVY_DATA_BYTES = 1.9e12;
export const HEAVY_ROTATIONAL_DISKS = 2;

// Memory, container layers, snap images and FUSE (a mergerfs pool re-exposes disks already
// counted; sshfs is someone else's disk).
const NOT_DATA_FS = new Set(['tmpfs', 'devtmpfs', 'ramfs', 'overlay', 'squashfs', 'efivarfs', 'proc', 'sysfs', 'devpts', 'cgroup', 'cgroup2', 'nfs', 'nfs4', 'cifs', 'smb3']);
const SYSTEM_MOUNTS = ['/boot', '/efi', '/nix', '/usr', '/run', '/dev', '/proc', '/sys', '/snap'];

export function isSystemMount(mount: string): boolean {
  return mount === '/' || SYSTEM_MOUNTS.some((prefix) => mount === prefix || mount.startsWith(`${prefix}/`));
}

export function isDataFilesystem(disk: DiskFact): disk is DiskFact & { mount: string } {
  if (disk.mount === null || isSystemMount(disk.mount)) return false;
  const type = disk.fsType ?? '';
  return !NOT_DATA_FS.has(type) && !type.startsWith('fuse');
}

export function summarizeStorage(disks: DiskFact[]): StorageSummary {
  // Mounts that share space count once: btrfs subvolumes share their device, and every ZFS
  // dataset reports the pool's free space, so datasets are grouped by pool.
  const bySpace = new Map<string, { bytes: number; mounts: string[] }>();
  for (const disk of disks.filter(isDataFilesystem)) {
    const key = disk.fsType === 'zfs' ? `zfs:${disk.device.split('/')[0]}` : disk.device;
    const space = bySpace.get(key) ?? { bytes: 0, mounts: [] };
    space.bytes = Math.max(space.bytes, disk.sizeBytes);
    space.mounts.push(disk.mount);
    bySpace.set(key, space);
  }
  const spaces = [...bySpace.values()];
  const dataBytes = spaces.reduce((sum, space) => sum + space.bytes, 0);
  const rotationalDisks = [...new Set(disks.filter((disk) => disk.rotational === true).map((disk) => disk.disk ?? disk.device))].sort();
  return {
    dataBytes,
    dataMounts: spaces.flatMap((space) => space.mounts).sort(),
    rotationalDisks,
    heavy: dataBytes >= HEAVY_DATA_BYTES || rotationalDisks.length >= HEAVY_ROTATIONAL_DISKS,
  };
}

export const terabytes = (bytes: number): string => `${(bytes / 1e12).toFixed(1)} TB`;

/** Why a box is storage-heavy, e.g. "storage-heavy: 2 rotational disks (/dev/sda, /dev/sdb), 15.8 TB on data disks (/srv/a, /srv/b)". */
export function storageReason(summary: StorageSummary): string {
  const parts: string[] = [];
  if (summary.rotationalDisks.length >= HEAVY_ROTATIONAL_DISKS) {
    parts.push(`${summary.rotationalDisks.length} rotational disks (${summary.rotationalDisks.join(', ')})`);
  }
  if (summary.dataBytes > 0) parts.push(`${terabytes(summary.dataBytes)} on data disks (${summary.dataMounts.join(', ')})`);
  return `storage-heavy: ${parts.join(', ')}`;
}
