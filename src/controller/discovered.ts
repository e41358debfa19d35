/**
 * Boxes the controller knows of but has not admitted: seen on the network (their `_cistern._tcp`
 * record) and/or holding a pending connection (started with `--discoverable`). Keyed by the
 * box's key fingerprint, which the admin compares with the one the box prints. Pure state with
 * the clock passed in; the mDNS browser and the socket route feed it. Boxes the admin rejected
 * may still be sighted here, but are never listed (their fingerprints are passed to `list`).
 */
import type { AgentAdvert } from '../discovery/records.js';
import type { PendingHello, PendingMessage } from '../protocol/messages.js';

export interface PendingConnection {
  hello: PendingHello;
  fingerprint: string;
  address: string;
  send(message: PendingMessage): void;
  close(code: number, reason: string): void;
}

export interface DiscoveredBox {
  fingerprint: string;
  name: string;
  hostname: string | null;
  address: string | null;
  version: string;
  profile: string;
  hardware: string;
  /** How the controller knows of it. */
  seenBy: ('mdns' | 'connection')[];
  /** It holds a pending connection, so `cistern discover approve` can admit it now. */
  approvable: boolean;
  firstSeen: number;
  lastSeen: number;
}

interface Entry {
  fingerprint: string;
  firstSeen: number;
  advert?: { data: AgentAdvert; instance: string; address: string | null; at: number };
  connection?: PendingConnection;
  summary?: { hardware: string; profile: string };
  connectedAt?: number;
}

export const MAX_PENDING_CONNECTIONS = 64;

export class DiscoveredBoxes {
  private readonly entries = new Map<string, Entry>();

  /** `sightingTtlMs`: a record not heard again for this long is forgotten (a box gone without a goodbye). */
  constructor(private readonly sightingTtlMs: number) {}

  sighted(advert: AgentAdvert, instance: string, address: string | null, now: number): { isNew: boolean } {
    const entry = this.entry(advert.fingerprint, now);
    const isNew = !entry.advert && !entry.connection;
    entry.advert = { data: advert, instance, address, at: now };
    return { isNew };
  }

  /** A goodbye: the box stopped advertising (shut down, or its agent stopped). */
  goodbye(instance: string): void {
    for (const entry of this.entries.values()) {
      if (entry.advert?.instance !== instance) continue;
      delete entry.advert;
      this.dropIfEmpty(entry);
    }
  }

  /**
   * A pending connection. A second one from the same key replaces the first (the box
   * reconnected); past the cap a new box is refused, so a flood cannot exhaust memory.
   */
  connected(connection: PendingConnection, summary: { hardware: string; profile: string }, now: number): { accepted: boolean; isNew: boolean } {
    const existing = this.entries.get(connection.fingerprint);
    if (!existing?.connection && this.connectionCount() >= MAX_PENDING_CONNECTIONS) return { accepted: false, isNew: false };
    const entry = this.entry(connection.fingerprint, now);
    const isNew = !entry.advert && !entry.connection;
    if (entry.connection && entry.connection !== connection) entry.connection.close(4000, 'replaced by a newer connection from the same box');
    entry.connection = connection;
    entry.summary = summary;
    entry.connectedAt = now;
    return { accepted: true, isNew };
  }

  disconnected(fingerprint: string, connection: PendingConnection): void {
    const entry = this.entries.get(fingerprint);
    if (!entry || entry.connection !== connection) return;
    delete entry.connection;
    this.dropIfEmpty(entry);
  }

  /** The open connection of a box, taken out of the table (it is being admitted). */
  take(fingerprint: string): PendingConnection | undefined {
    const entry = this.entries.get(fingerprint);
    const connection = entry?.connection;
    if (!entry || !connection) return undefined;
    this.entries.delete(fingerprint);
    return connection;
  }

  /** The box's whole entry is dropped (it was rejected); its open connection, if any, is handed back to be closed. */
  forget(fingerprint: string): PendingConnection | undefined {
    const connection = this.entries.get(fingerprint)?.connection;
    this.entries.delete(fingerprint);
    return connection;
  }

  /**
   * Boxes not admitted yet, expired sightings dropped; `registered` says which keys already
   * belong to agents, and boxes whose fingerprint is in `rejected` are left out.
   */
  list(now: number, registered: (fingerprint: string, agentId: string) => boolean, rejected: ReadonlySet<string> = new Set()): DiscoveredBox[] {
    const boxes: DiscoveredBox[] = [];
    for (const entry of [...this.entries.values()]) {
      if (entry.advert && now - entry.advert.at > this.sightingTtlMs) delete entry.advert;
      if (this.dropIfEmpty(entry)) continue;
      if (rejected.has(entry.fingerprint) || registered(entry.fingerprint, entry.advert?.data.id ?? '')) continue;
      boxes.push(view(entry));
    }
    return boxes.sort((a, b) => a.name.localeCompare(b.name) || a.fingerprint.localeCompare(b.fingerprint));
  }

  private connectionCount(): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.connection) n++;
    return n;
  }

  private entry(fingerprint: string, now: number): Entry {
    let entry = this.entries.get(fingerprint);
    if (!entry) this.entries.set(fingerprint, (entry = { fingerprint, firstSeen: now }));
    return entry;
  }

  private dropIfEmpty(entry: Entry): boolean {
    if (entry.advert || entry.connection) return false;
    this.entries.delete(entry.fingerprint);
    return true;
  }
}

function view(entry: Entry): DiscoveredBox {
  const { advert, connection, summary } = entry;
  const hello = connection?.hello;
  return {
    fingerprint: entry.fingerprint,
    name: hello?.name ?? advert?.data.name ?? hello?.hostname ?? 'unknown',
    hostname: hello?.hostname ?? null,
    address: advert?.address ?? connection?.address ?? null,
    version: hello?.version ?? advert?.data.version ?? '',
    profile: (connection && summary?.profile) || advert?.data.profile || '',
    hardware: (connection && summary?.hardware) || advert?.data.hardware || '',
    seenBy: [...(advert ? ['mdns' as const] : []), ...(connection ? ['connection' as const] : [])],
    approvable: connection !== undefined,
    firstSeen: entry.firstSeen,
    lastSeen: Math.max(advert?.at ?? 0, entry.connectedAt ?? 0),
  };
}
