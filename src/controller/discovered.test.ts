import { describe, expect, it } from 'vitest';
import { keyFingerprint, type AgentAdvert } from '../discovery/records.js';
import type { PendingMessage } from '../protocol/messages.js';
import { DiscoveredBoxes, MAX_PENDING_CONNECTIONS, type PendingConnection } from './discovered.js';

const recipient = (n: number) => `age1${String(n).padStart(58, 'q')}`;
const advert = (n: number, overrides: Partial<AgentAdvert> = {}): AgentAdvert => ({
  id: '', name: `box-${n}`, version: '0.1.0', profile: 'generic', fingerprint: keyFingerprint(recipient(n)), hardware: 'x86_64, 4 cores', ...overrides,
});

function connection(n: number, name = `box-${n}`): PendingConnection & { sent: PendingMessage[]; closed: [number, string][] } {
  const sent: PendingMessage[] = [];
  const closed: [number, string][] = [];
  return {
    hello: { type: 'pending-hello', hostname: `${name}.lan`, name, version: '0.1.0 (protocol 1)', ageRecipient: recipient(n), facts: {} },
    fingerprint: keyFingerprint(recipient(n)), address: `10.0.0.${n}`, sent, closed,
    send: (m) => { sent.push(m); }, close: (code, reason) => { closed.push([code, reason]); },
  };
}

const none = () => false;

describe('the table of discovered boxes', () => {
  it('lists a box seen by mDNS as not approvable, and one holding a connection as approvable, merged by key', () => {
    const boxes = new DiscoveredBoxes(30_000);
    expect(boxes.sighted(advert(1), 'box-1 [x]._cistern._tcp.local', '10.0.0.1', 1_000)).toEqual({ isNew: true });
    expect(boxes.list(1_000, none)).toMatchObject([{ name: 'box-1', address: '10.0.0.1', seenBy: ['mdns'], approvable: false, hardware: 'x86_64, 4 cores' }]);
    const c = connection(1);
    expect(boxes.connected(c, { hardware: 'x86_64, 8 cores, 16.0 GiB', profile: 'pc-gpu' }, 2_000)).toEqual({ accepted: true, isNew: false });
    expect(boxes.list(2_000, none)).toMatchObject([{ name: 'box-1', seenBy: ['mdns', 'connection'], approvable: true, hardware: 'x86_64, 8 cores, 16.0 GiB', profile: 'pc-gpu', firstSeen: 1_000, lastSeen: 2_000 }]);
  });

  it('forgets a sighting after its TTL or on a goodbye, but keeps a box while its connection is open', () => {
    const boxes = new DiscoveredBoxes(30_000);
    boxes.sighted(advert(1), 'one', '10.0.0.1', 0);
    boxes.sighted(advert(2), 'two', '10.0.0.2', 0);
    boxes.connected(connection(2), { hardware: '', profile: '' }, 0);
    expect(boxes.list(29_000, none).map((b) => b.name)).toEqual(['box-1', 'box-2']);
    expect(boxes.list(31_000, none).map((b) => [b.name, b.seenBy])).toEqual([['box-2', ['connection']]]);
    boxes.sighted(advert(3), 'three', '10.0.0.3', 31_000);
    boxes.goodbye('three');
    expect(boxes.list(31_000, none).map((b) => b.name)).toEqual(['box-2']);
  });

  it('hides boxes whose key or advertised id belongs to a registered agent', () => {
    const boxes = new DiscoveredBoxes(30_000);
    boxes.sighted(advert(1), 'one', null, 0);
    boxes.sighted(advert(2, { id: 'agent-2' }), 'two', null, 0);
    boxes.sighted(advert(3), 'three', null, 0);
    const registered = (fp: string, id: string) => fp === keyFingerprint(recipient(1)) || id === 'agent-2';
    expect(boxes.list(0, registered).map((b) => b.name)).toEqual(['box-3']);
  });

  it('replaces the connection of a box that reconnects, and ignores the old one closing late', () => {
    const boxes = new DiscoveredBoxes(30_000);
    const first = connection(1);
    const second = connection(1);
    boxes.connected(first, { hardware: '', profile: '' }, 0);
    boxes.connected(second, { hardware: '', profile: '' }, 1);
    expect(first.closed).toEqual([[4000, 'replaced by a newer connection from the same box']]);
    boxes.disconnected(first.fingerprint, first);
    expect(boxes.list(1, none)).toMatchObject([{ approvable: true }]);
    expect(boxes.take(second.fingerprint)).toBe(second);
    expect(boxes.list(1, none)).toEqual([]);
  });

  it('leaves out rejected fingerprints, whether sighted by mDNS or holding a connection', () => {
    const boxes = new DiscoveredBoxes(30_000);
    boxes.sighted(advert(1), 'one', '10.0.0.1', 0);
    boxes.connected(connection(2), { hardware: '', profile: '' }, 0);
    boxes.sighted(advert(3), 'three', '10.0.0.3', 0);
    boxes.connected(connection(3), { hardware: '', profile: '' }, 0);
    const rejected = new Set([keyFingerprint(recipient(1)), keyFingerprint(recipient(3))]);
    expect(boxes.list(0, none, rejected).map((b) => b.name)).toEqual(['box-2']);
    expect(boxes.list(0, none).map((b) => b.name)).toEqual(['box-1', 'box-2', 'box-3']);
  });

  it('forgets a box wholly, handing back its connection to close', () => {
    const boxes = new DiscoveredBoxes(30_000);
    const c = connection(1);
    boxes.sighted(advert(1), 'one', '10.0.0.1', 0);
    boxes.connected(c, { hardware: '', profile: '' }, 0);
    boxes.sighted(advert(2), 'two', '10.0.0.2', 0);
    expect(boxes.forget(c.fingerprint)).toBe(c);
    expect(boxes.forget(keyFingerprint(recipient(2)))).toBeUndefined();
    expect(boxes.list(0, none)).toEqual([]);
    // A later sighting starts afresh, as a new box.
    expect(boxes.sighted(advert(1), 'one', '10.0.0.1', 1)).toEqual({ isNew: true });
  });

  it(`refuses new boxes past ${MAX_PENDING_CONNECTIONS} waiting connections, but lets a waiting box reconnect`, () => {
    const boxes = new DiscoveredBoxes(30_000);
    for (let n = 0; n < MAX_PENDING_CONNECTIONS; n++) expect(boxes.connected(connection(n), { hardware: '', profile: '' }, 0).accepted).toBe(true);
    expect(boxes.connected(connection(MAX_PENDING_CONNECTIONS), { hardware: '', profile: '' }, 0).accepted).toBe(false);
    expect(boxes.connected(connection(5), { hardware: '', profile: '' }, 0).accepted).toBe(true);
    expect(boxes.list(0, none)).toHaveLength(MAX_PENDING_CONNECTIONS);
  });
});
