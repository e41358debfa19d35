/** Shared storage: the NFS plan for the media root, and mount health as placement reads it. */
export { storagePlan, fsid } from './plan.js';
export { placementMounts, requiredMount, describeMount, formatBytes } from './health.js';
export { MOUNT_OPTIONS, EXPORT_OPTIONS, CROSSMNT, type Choice } from './options.js';
export { exportsLine, nixModule, nixString } from './render.js';
export type { NfsExport, NfsMount, StorageConflict, StoragePlan } from './types.js';
