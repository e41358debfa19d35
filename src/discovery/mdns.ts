/**
 * DNS-SD over mDNS through `bonjour-service`: advertising one service and browsing for a type.
 * The library announces with RFC 6762 probing, answers queries and sends goodbyes; what it does
 * not do is forget a service that vanished without a goodbye (a box unplugged), so browsing runs
 * in rounds: `refresh()` starts a fresh browser, every service that answers is reported again,
 * and the caller ages out what stopped answering.
 */
import { Bonjour, type Service } from 'bonjour-service';

export interface Sighting {
  /** The full instance name, `NAME._cistern._tcp.local`. */
  instance: string;
  host: string;
  port: number;
  /** IPv4 first: the lab and most home networks are IPv4. */
  addresses: string[];
  txt: Record<string, unknown>;
}

export interface Advertisement {
  /**
   * Announces new TXT values in place: the TXT record is replaced and sent with the cache-flush
   * bit (RFC 6762 §8.4), without a goodbye, so browsers never see the service go away.
   */
  update(txt: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export interface Browsing {
  /** Queries again; every service that answers is reported through `seen`. */
  refresh(): void;
  stop(): void;
}

export interface Mdns {
  advertise(options: { type: string; name: string; port: number; host?: string; txt: Record<string, string> }): Advertisement;
  browse(type: string, handlers: { seen(sighting: Sighting): void; gone(instance: string): void }): Browsing;
  /** Goodbyes for everything advertised, then the socket closes. */
  close(): Promise<void>;
}

export interface MdnsOptions {
  /** The interface address to send and join the group on; default: the first non-internal IPv4. */
  interface?: string;
  onError?: (error: Error) => void;
}

/**
 * The address the answer came from goes first: a responder lists every interface it has
 * (docker0 and the like), while the packet's source is the one on the network we share.
 */
function sighting(service: Service): Sighting {
  const referer = service.referer?.address;
  const others = (service.addresses ?? []).filter((a) => a !== referer && !a.startsWith('fe80'));
  others.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  const addresses = referer ? [referer, ...others] : others;
  return { instance: service.fqdn, host: service.host, port: service.port, addresses, txt: (service.txt ?? {}) as Record<string, unknown> };
}

/** A record as bonjour-service registers it and multicast-dns sends it. */
interface WireRecord { name: string; type: string; ttl?: number; data: unknown; flush?: boolean }

/**
 * The parts of bonjour-service 1.4 (pinned) that an in-place TXT update needs and its typings
 * keep private: the responder's record table, which also holds the very objects its
 * re-announcement loop sends, and the multicast-dns socket. Checked at run time, so a library
 * that changed shape makes `update` fall back to goodbye and re-publish instead of misbehaving.
 */
interface ResponderInternals { registry: Record<string, WireRecord[] | undefined>; mdns: { respond(packet: { answers: WireRecord[] }, cb?: (error?: Error) => void): void } }

function responderOf(bonjour: Bonjour): ResponderInternals | undefined {
  const server = (bonjour as unknown as { server?: Partial<ResponderInternals> }).server;
  if (typeof server?.registry !== 'object' || server.registry === null || typeof server.mdns?.respond !== 'function') return undefined;
  return server as ResponderInternals;
}

/**
 * Swaps the service's TXT record for one with `txt` and announces it with cache-flush. Returns
 * false when the record is not where bonjour-service 1.4 keeps it.
 */
function updateTxtInPlace(bonjour: Bonjour, service: Service, txt: Record<string, string>): Promise<boolean> {
  const responder = responderOf(bonjour);
  const records = responder?.registry['TXT'];
  const current = records?.find((r) => r.name === service.fqdn);
  if (!responder || !current || !service.published) return Promise.resolve(false);
  service.txt = txt;
  const fresh = service.records().find((r) => r.type === 'TXT');
  if (!fresh) return Promise.resolve(false);
  // Mutated rather than replaced: the announce loop holds this same object and re-sends it.
  current.data = fresh.data;
  // Sent twice, a second apart (RFC 6762 §8.3): the announce loop's next turn may be minutes away.
  const announce = (done?: () => void) => responder.mdns.respond({ answers: [{ ...current, flush: true }] }, () => done?.());
  setTimeout(() => { if (service.published) announce(); }, 1_000).unref();
  return new Promise((resolve) => announce(() => resolve(true)));
}

/** Resolves once the service's first announcement went out ('up'), or after `timeoutMs`. */
function announced(service: Service, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    function done() {
      clearTimeout(timer);
      service.off('up', done);
      resolve();
    }
    service.once('up', done);
  });
}

export function createMdns(options: MdnsOptions = {}): Mdns {
  const onError = options.onError ?? (() => {});
  // The first argument goes to multicast-dns as its socket options, whatever the typings say.
  // With an interface, bind stays on 0.0.0.0: a socket bound to a unicast address never
  // receives datagrams sent to the multicast group.
  const socketOptions = (options.interface ? { interface: options.interface, bind: '0.0.0.0' } : {}) as ConstructorParameters<typeof Bonjour>[0];
  const bonjour = new Bonjour(socketOptions, (error: Error) => onError(error));
  const browsers = new Set<{ stop(): void }>();
  const published = new Set<Service>();

  const unpublish = (service: Service) => new Promise<void>((resolve) => {
    published.delete(service);
    const timer = setTimeout(resolve, 1_000);
    service.stop?.(() => { clearTimeout(timer); resolve(); });
  });

  return {
    advertise(ad) {
      const config = { name: ad.name, type: ad.type, port: ad.port, host: ad.host, txt: ad.txt, disableIPv6: true };
      let service = bonjour.publish(config);
      published.add(service);
      return {
        async update(txt) {
          // An agent registers within a second of starting, often while its record is still
          // being probed or first announced. Replacing the service then would race the library:
          // the old announce loop revives itself and keeps re-sending the old TXT beside the new
          // one (seen as Avahi holding a box's record without its id). Wait for it to be up.
          if (!service.published) await announced(service, 3_000);
          if (await updateTxtInPlace(bonjour, service, txt)) return;
          await unpublish(service);
          // The name was probed once already: re-announcing it needs no second probe.
          service = bonjour.publish({ ...config, txt, probe: false });
          published.add(service);
        },
        stop: () => unpublish(service),
      };
    },

    browse(type, handlers) {
      let browser: ReturnType<Bonjour['find']> | undefined;
      const start = () => {
        browser?.stop();
        const current = bonjour.find({ type });
        browser = current;
        const seen = (service: Service) => { if (browser === current) handlers.seen(sighting(service)); };
        current.on('up', seen);
        current.on('txt-update', seen);
        current.on('srv-update', seen);
        current.on('down', (service: Service) => { if (browser === current) handlers.gone(service.fqdn); });
      };
      start();
      const handle = { refresh: start, stop: () => { browser?.stop(); browser = undefined; browsers.delete(handle); } };
      browsers.add(handle);
      return handle;
    },

    async close() {
      for (const b of [...browsers]) b.stop();
      await Promise.all([...published].map(unpublish));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        bonjour.destroy(() => { clearTimeout(timer); resolve(); });
      });
    },
  };
}
