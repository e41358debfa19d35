/**
 * An in-memory mDNS network for tests of discovery logic without sockets (the real one runs
 * only inside the fleet lab's namespaces). Members see each other's advertisements the way
 * browsers see DNS-SD: on announce and update, on every query (browse start and refresh), and a
 * goodbye on stop. Delivery is asynchronous, as on a network.
 */
import type { Advertisement, Browsing, Mdns, Sighting } from '../discovery/mdns.js';

interface Published { type: string; sighting: Sighting; owner: string }
interface Listener { type: string; seen(s: Sighting): void; gone(instance: string): void }

export interface FakeMdnsNetwork {
  /** A member of the network answering from `address`. */
  member(address: string): Mdns;
  /** What is advertised now, by type. */
  published(type: string): Sighting[];
}

export function fakeMdnsNetwork(): FakeMdnsNetwork {
  const adverts = new Set<Published>();
  const listeners = new Set<Listener>();
  const later = (fn: () => void) => setImmediate(fn);
  const announce = (p: Published) => later(() => { for (const l of listeners) if (l.type === p.type && adverts.has(p)) l.seen({ ...p.sighting }); });
  const goodbye = (p: Published) => later(() => { for (const l of listeners) if (l.type === p.type) l.gone(p.sighting.instance); });

  return {
    published: (type) => [...adverts].filter((p) => p.type === type).map((p) => p.sighting),
    member(address) {
      const mine = new Set<Published>();
      const browsings = new Set<Browsing>();
      return {
        advertise(ad): Advertisement {
          const current: Published = {
            type: ad.type, owner: address,
            sighting: { instance: `${ad.name}._${ad.type}._tcp.local`, host: ad.host ?? 'host.local', port: ad.port, addresses: [address], txt: { ...ad.txt } },
          };
          adverts.add(current);
          mine.add(current);
          announce(current);
          const stop = async () => {
            if (!adverts.delete(current)) return;
            mine.delete(current);
            goodbye(current);
          };
          return {
            // As the real one: the record changes in place and is announced, with no goodbye.
            async update(txt) {
              if (!adverts.has(current)) return;
              current.sighting = { ...current.sighting, txt: { ...txt } };
              announce(current);
            },
            stop,
          };
        },
        browse(type, handlers): Browsing {
          const listener: Listener = { type, ...handlers };
          listeners.add(listener);
          const query = () => later(() => { if (listeners.has(listener)) for (const p of adverts) if (p.type === type) handlers.seen({ ...p.sighting }); });
          query();
          const browsing: Browsing = { refresh: query, stop: () => { listeners.delete(listener); browsings.delete(browsing); } };
          browsings.add(browsing);
          return browsing;
        },
        async close() {
          for (const b of [...browsings]) b.stop();
          for (const p of [...mine]) { adverts.delete(p); goodbye(p); }
          mine.clear();
        },
      };
    },
  };
}
