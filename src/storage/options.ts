/**
 * The NFS options Cistern writes, each with the reason it is there (docs/storage.md repeats
 * them for people). Sources: nfs(5) and exports(5) from nfs-utils, systemd.mount(5).
 */

export interface Choice { option: string; why: string }

/** Client side: `fileSystems.<at>.options` on NixOS. */
export const MOUNT_OPTIONS: readonly Choice[] = [
  {
    option: 'nfsvers=4',
    why: 'NFSv4 only: one TCP port (2049), no rpcbind or mountd, locking inside the protocol; the minor version (4.2 on current kernels) is settled between client and server',
  },
  {
    option: 'hard',
    why: 'retry for ever instead of failing reads and writes: nfs(5) warns that soft mounts can corrupt data silently, and the *arr apps and download clients write and move files; the agent\'s mount probe (run in a child process with a time limit) is what notices a server that stopped answering',
  },
  {
    option: 'timeo=600',
    why: 'wait 60 s before a retransmission (the default for TCP, written out so it is visible); TCP retransmits lost packets itself, so a shorter timeout only adds load to a server that is already slow',
  },
  {
    option: 'retrans=2',
    why: 'report "server not responding" in the kernel log after the second retransmission (the TCP default)',
  },
  { option: 'noatime', why: 'streaming a file does not write its access time back over the network' },
  {
    option: 'nofail',
    why: 'a box whose storage server is away (moved, powered off) still boots; its media services are placed elsewhere until the mount is healthy',
  },
  {
    option: 'x-systemd.automount',
    why: 'mount on first access, so a storage server that comes back later is picked up without a reboot and boot never waits for it',
  },
  {
    option: 'x-systemd.mount-timeout=30s',
    why: 'give up a mount attempt after 30 s (a hard mount to an unreachable server would otherwise wait for as long as systemd\'s default of 90 s)',
  },
];

/** Server side: every client entry on the `/etc/exports` line. */
export const EXPORT_OPTIONS: readonly Choice[] = [
  { option: 'rw', why: 'the *arr apps, Bazarr and the download clients write into the library' },
  { option: 'sync', why: 'the server commits writes before it answers, so a server crash loses no write a client was told is done' },
  {
    option: 'no_subtree_check',
    why: 'subtree checking breaks file handles when files are renamed while open, which the *arr apps do all the time (import, rename); it adds nothing when a whole library is exported',
  },
  { option: 'root_squash', why: 'root on a client is nobody on the server: one compromised box cannot own the whole library' },
];

/** Added when the exporting server has other filesystems mounted below the media root. */
export const CROSSMNT: Choice = {
  option: 'crossmnt',
  why: 'other disks are mounted below the media root on the exporting server; without crossmnt clients would see their empty mount points',
};

/** Added when the media root's filesystem is not a block device (mergerfs, other FUSE). */
export const FSID_WHY = 'the media root is not on a block device (e.g. mergerfs or another FUSE pool), so the NFS server cannot derive a filesystem id by itself (exports(5), fsid=)';

export const mountOptions = (): string[] => MOUNT_OPTIONS.map((c) => c.option);
