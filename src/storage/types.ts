/** What `storagePlan` returns: who exports the media root, who mounts it, and what is wrong. */
import type { FieldPath } from '../inventory/findings.js';

export interface NfsExport {
  /** The exporting server. */
  server: string;
  /** The exported directory on it (the media root). */
  path: string;
  /** The servers that mount it, by name. */
  clients: string[];
  /** Who exports(5) lets in: the clients' addresses or host names, or the fleet's subnet. */
  allow: string[];
  options: string[];
}

export interface NfsMount {
  /** The mounting server. */
  server: string;
  /** `eden:/mnt/media`: the exporting server's name and path. */
  from: string;
  /** `192.168.1.10:/mnt/media`: what mount(8) is given (the exporter's address). */
  device: string;
  /** The local mount point: the media root, so paths in the apps' databases are the same on every box. */
  at: string;
  options: string[];
}

export interface StorageConflict {
  severity: 'error' | 'warning';
  /** Stable, e.g. `media-root-claimed-twice`, `state-on-network-storage` (docs/storage.md lists them). */
  code: string;
  message: string;
  server?: string;
  /** The filesystem path concerned. */
  path?: string;
  /** Where in inventory.yaml, for file:line. */
  field?: FieldPath;
  hint?: string;
}

export interface StoragePlan {
  /** The normalized media root, or null when the inventory names none. */
  mediaRoot: string | null;
  /** The server that holds and exports the media root, or null when none could be chosen. */
  mediaServer: string | null;
  exports: NfsExport[];
  mounts: NfsMount[];
  /** Server name → a NixOS module with its exports and `fileSystems` entries. */
  nixos: Record<string, string>;
  /** Server name → its `/etc/exports` lines. */
  exportsLines: Record<string, string[]>;
  conflicts: StorageConflict[];
}
