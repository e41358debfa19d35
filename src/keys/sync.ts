/**
 * `keys sync` across servers: one push per server, concurrently with a bound, each over SSH or
 * through the server's agent. A server that fails (unreachable, refused, a changed host key, an
 * agent gone) becomes a failed row; it never stops or hides the others. The push itself is
 * passed in, so this runs in tests without a socket.
 */
import pLimit from 'p-limit';
import { isCisternError } from '../errors.js';
import type { BlockKey, ManagedKey } from './authorized-keys.js';
import type { HostKeyCheck } from './known-hosts.js';
import { fingerprint, parsePublicKey } from './public-key.js';
import type { PushTarget } from './ssh-push.js';

/** How a server's keys get there: the agent writes them itself, or Cistern logs in over SSH. */
export type Via = 'agent' | 'ssh';
export type ViaMode = Via | 'auto';

/** A server and the keys it should have. */
export interface KeyTarget extends PushTarget {
  keys: ManagedKey[];
}

export interface SyncTarget extends KeyTarget {
  via: Via;
}

/** What one push did; `hostKey` only over SSH (the agent's channel is authenticated by the controller's CA). */
export interface Applied {
  path: string;
  changed: boolean;
  added: ManagedKey[];
  removed: BlockKey[];
  hostKey: HostKeyCheck | null;
}

/**
 * The way to `server`: `auto` takes the agent when the controller says it is connected now,
 * SSH otherwise (a new box has no agent yet; no controller means SSH for every server).
 * `connected` is undefined when no controller was asked.
 */
export function chooseVia(mode: ViaMode, server: string, connected: ReadonlySet<string> | undefined): Via {
  if (mode !== 'auto') return mode;
  return connected?.has(server) ? 'agent' : 'ssh';
}

export interface SyncError {
  /** A CisternError code; null for a bug, which the CLI reports as "internal error". */
  code: string | null;
  message: string;
  hint?: string;
  details?: unknown;
}

export interface SyncResult {
  server: string;
  address: string;
  user: string;
  via: Via;
  ok: boolean;
  changed: boolean;
  /** Names of the keys the block holds after the sync (what was wanted, when it failed). */
  keys: string[];
  added: string[];
  removed: string[];
  path: string | null;
  host_key: { fingerprint: string; pinned: boolean } | null;
  error: SyncError | null;
}

export interface SyncOptions {
  concurrency: number;
  push(target: SyncTarget): Promise<Applied>;
  onResult?: (result: SyncResult, done: number, total: number) => void;
}

const hostPort = (t: PushTarget) => (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`);

function materialName(material: string): string {
  const parsed = parsePublicKey(material);
  return parsed.ok ? fingerprint(parsed.key.blob) : material.slice(0, 30);
}

function toError(error: unknown): SyncError {
  if (isCisternError(error)) {
    return { code: error.code, message: error.message, ...(error.hint !== undefined && { hint: error.hint }), ...(error.details !== undefined && { details: error.details }) };
  }
  return { code: null, message: error instanceof Error ? error.message : String(error) };
}

export async function syncKeys(targets: readonly SyncTarget[], options: SyncOptions): Promise<SyncResult[]> {
  const limit = pLimit(Math.max(1, options.concurrency));
  let done = 0;
  return Promise.all(targets.map((target) => limit(async (): Promise<SyncResult> => {
    const base = { server: target.server, address: hostPort(target), user: target.user, via: target.via, keys: target.keys.map((k) => k.name) };
    let result: SyncResult;
    try {
      const pushed = await options.push(target);
      result = {
        ...base, ok: true, changed: pushed.changed, path: pushed.path,
        added: pushed.added.map((k) => k.name),
        removed: pushed.removed.map((k) => k.name ?? materialName(k.material)),
        host_key: pushed.hostKey && { fingerprint: pushed.hostKey.fingerprint, pinned: pushed.hostKey.pinned },
        error: null,
      };
    } catch (error) {
      result = { ...base, ok: false, changed: false, path: null, added: [], removed: [], host_key: null, error: toError(error) };
    }
    options.onResult?.(result, ++done, targets.length);
    return result;
  })));
}
