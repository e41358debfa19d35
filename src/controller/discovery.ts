/**
 * The controller's side of discovery: it advertises itself as `_cistern-controller._tcp` with its
 * CA fingerprint, browses `_cistern._tcp` in rounds, keeps the boxes that are not registered in a
 * pending table with the `--discoverable` boxes' connections, and admits a box on approval by
 * sealing its credential with age to the key the admin compared — or, on rejection, remembers
 * its key in the store and turns it away from then on.
 */
import { Encrypter } from 'age-encryption';
import { factsSchema } from '../agent/facts-schema.js';
import { effectiveProfile } from '../agent/profile.js';
import type { Mdns } from '../discovery/mdns.js';
import { CONTROLLER_SERVICE, AGENT_SERVICE, controllerTxt, hardwareSummary, keyFingerprint, parseAgentTxt } from '../discovery/records.js';
import type { PendingHello } from '../protocol/messages.js';
import type { Logger } from '../util/logger.js';
import { VERSION } from '../version.js';
import type { ControllerCore } from './core.js';
import { DiscoveredBoxes, type DiscoveredBox, type PendingConnection } from './discovered.js';
import { rejectionReason, resolveAllPending, resolveRejected } from './discovery-targets.js';
import type { RejectedBox } from './ports.js';

export interface DiscoveryOptions {
  core: ControllerCore;
  logger: Logger;
  caFingerprint: string;
  /** Without it, no mDNS: only `--discoverable` boxes that were given the controller's URL appear. */
  mdns?: Mdns;
  /** The API port, advertised in the controller's SRV record. */
  port?: number;
  hostname?: string;
  browseIntervalMs?: number;
  /** A box not heard from for this long is forgotten; a few browse rounds. */
  sightingTtlMs?: number;
}

export interface Approved { name: string; agentId: string; fingerprint: string }

export class ControllerDiscovery {
  readonly boxes: DiscoveredBoxes;
  private timer: NodeJS.Timeout | undefined;
  private browsing: { stop(): void } | undefined;
  private readonly core: ControllerCore;
  private port: number | undefined;

  constructor(private readonly options: DiscoveryOptions) {
    this.core = options.core;
    this.port = options.port;
    this.boxes = new DiscoveredBoxes(options.sightingTtlMs ?? 3 * (options.browseIntervalMs ?? 10_000) + 5_000);
  }

  start(): void {
    const { mdns, logger } = this.options;
    if (!mdns) return;
    if (this.port !== undefined) {
      mdns.advertise({
        type: CONTROLLER_SERVICE, name: `Cistern controller on ${this.options.hostname ?? 'this network'}`.slice(0, 63), port: this.port,
        // Not HOSTNAME.local: Avahi on this machine owns that name (see advertise.ts).
        host: `cistern-controller-${this.options.caFingerprint.slice(7, 15)}.local`,
        txt: controllerTxt({ caFingerprint: this.options.caFingerprint, version: VERSION }),
      });
    }
    const browsing = (this.browsing = mdns.browse(AGENT_SERVICE, {
      seen: (s) => {
        const advert = parseAgentTxt(s.txt);
        if (!advert) return;
        const { isNew } = this.boxes.sighted(advert, s.instance, s.addresses[0] ?? null, this.core.clock());
        if (isNew && !this.registered()(advert.fingerprint, advert.id) && !this.rejectedKeys().has(advert.fingerprint)) {
          this.core.events.record('discovered', null, { name: advert.name, address: s.addresses[0] ?? null, fingerprint: advert.fingerprint, via: 'mdns' });
          logger.info({ name: advert.name, address: s.addresses[0] }, 'discovered a box on the network');
        }
      },
      gone: (instance) => this.boxes.goodbye(instance),
    }));
    this.timer = setInterval(() => browsing.refresh(), this.options.browseIntervalMs ?? 10_000);
    this.timer.unref();
  }

  setPort(port: number): void {
    this.port = port;
  }

  close(): void {
    clearInterval(this.timer);
    this.browsing?.stop();
  }

  list(): DiscoveredBox[] {
    return this.boxes.list(this.core.clock(), this.registered(), this.rejectedKeys());
  }

  /** A `--discoverable` box connected; false when refused (a box with this key is registered or rejected, or too many wait). */
  connected(connection: PendingConnection): boolean {
    if (this.core.registeredKeys().has(connection.fingerprint)) {
      connection.send({ type: 'rejected', reason: 'a registered agent already has this key; use its saved credential' });
      connection.close(4009, 'already registered');
      return false;
    }
    if (this.rejectedKeys().has(connection.fingerprint)) {
      this.refuse(connection);
      this.options.logger.info({ fingerprint: connection.fingerprint, remote: connection.address }, 'a rejected box tried again; refused');
      return false;
    }
    // Facts from an unadmitted box are read only through the schema, for display.
    const facts = factsSchema.safeParse(connection.hello.facts).data;
    const summary = { hardware: facts ? hardwareSummary(facts) : '', profile: effectiveProfile({}, facts).profile };
    const { accepted, isNew } = this.boxes.connected(connection, summary, this.core.clock());
    if (!accepted) {
      connection.close(1013, 'too many boxes are waiting for approval');
      return false;
    }
    const name = connection.hello.name ?? connection.hello.hostname;
    if (isNew) this.core.events.record('discovered', null, { name, address: connection.address, fingerprint: connection.fingerprint, via: 'connection' });
    connection.send({ type: 'pending-ack', name, fingerprint: connection.fingerprint });
    return true;
  }

  disconnected(connection: PendingConnection): void {
    this.boxes.disconnected(connection.fingerprint, connection);
  }

  /**
   * Resolves every target first (a name, or a fingerprint prefix of 4+ hex digits), so one bad
   * target approves nothing; then admits each box and sends it its sealed credential.
   */
  async approve(targets: { names: string[] } | { all: true }, group: string | null): Promise<Approved[]> {
    const pending = this.list();
    const chosen = 'all' in targets ? pending.filter((b) => b.approvable) : resolveAllPending(targets.names, pending, 'approve');
    const approved: Approved[] = [];
    for (const box of chosen) {
      const connection = this.boxes.take(box.fingerprint);
      if (!connection) continue; // it hung up between the listing and now
      const registration = this.core.approve(request(connection.hello), group, box.fingerprint);
      const sealed = await seal(registration.credential, connection.hello.ageRecipient);
      connection.send({ type: 'approved', agentId: registration.agentId, name: registration.name, sealedCredential: sealed, heartbeatIntervalMs: registration.heartbeatIntervalMs });
      connection.close(1000, 'approved');
      approved.push({ name: registration.name, agentId: registration.agentId, fingerprint: box.fingerprint });
      this.options.logger.info({ agent: registration.name }, 'approved a discovered box');
    }
    return approved;
  }

  /**
   * Resolves every target first (as approve does), so one bad target rejects nothing; then
   * remembers each box's key as rejected, and closes its pending connection with the reason,
   * which the box prints before it exits. `all`: every box `cistern discover` lists.
   */
  reject(targets: { names: string[] } | { all: true }): RejectedBox[] {
    const pending = this.list();
    const chosen = 'all' in targets ? pending : resolveAllPending(targets.names, pending, 'reject');
    const now = this.core.clock();
    const rejected = chosen.map((b): RejectedBox => ({ fingerprint: b.fingerprint, name: b.name, address: b.address, rejectedAt: now }));
    this.core.store.transaction(() => { for (const box of rejected) this.core.store.rejected.add(box); });
    for (const box of rejected) {
      this.core.events.record('box-rejected', null, { name: box.name, address: box.address, fingerprint: box.fingerprint });
      const connection = this.boxes.forget(box.fingerprint);
      if (connection) this.refuse(connection);
      this.options.logger.info({ name: box.name, fingerprint: box.fingerprint }, 'rejected a discovered box');
    }
    return rejected;
  }

  /** Oldest first. */
  rejected(): RejectedBox[] {
    return this.core.store.rejected.list();
  }

  /** Forgets one rejection (by name or key fingerprint): the box may wait for approval again. */
  unreject(target: string): RejectedBox {
    const box = resolveRejected(target, this.rejected());
    this.core.store.rejected.remove(box.fingerprint);
    this.core.events.record('box-unrejected', null, { name: box.name, fingerprint: box.fingerprint });
    this.options.logger.info({ name: box.name, fingerprint: box.fingerprint }, 'unrejected a box');
    return box;
  }

  private refuse(connection: PendingConnection): void {
    connection.send({ type: 'rejected', reason: rejectionReason(connection.fingerprint) });
    connection.close(4403, 'rejected by the admin');
  }

  private rejectedKeys(): Set<string> {
    return new Set(this.core.store.rejected.list().map((r) => r.fingerprint));
  }

  /** Whether a box (by key fingerprint, or the agent id it advertises) already belongs to the fleet. */
  private registered(): (fingerprint: string, id: string) => boolean {
    const keys = this.core.registeredKeys();
    const ids = new Set(keys.values());
    return (fingerprint, id) => keys.has(fingerprint) || (id !== '' && ids.has(id));
  }
}

export function pendingFingerprint(hello: PendingHello): string {
  return keyFingerprint(hello.ageRecipient);
}

function request(hello: PendingHello) {
  return { hostname: hello.hostname, ...(hello.name !== undefined && { name: hello.name }), version: hello.version, ageRecipient: hello.ageRecipient, facts: hello.facts };
}

async function seal(secret: string, recipient: string): Promise<string> {
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  return Buffer.from(await encrypter.encrypt(secret)).toString('base64');
}
