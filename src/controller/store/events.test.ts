import { describe, expect, it } from 'vitest';
import { testStore } from '../../testing/store.js';
import { generateJoinToken } from '../tokens.js';

describe('event store', () => {
  it('pages through events by id, for all servers or one', () => {
    const store = testStore();
    const ids = Array.from({ length: 7 }, (_, i) => store.addEvent({ at: 1000 + i, kind: 'health', server: i % 2 ? 'pi' : 'nas', data: { i } }));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const first = store.listEvents({ limit: 3 });
    expect(first.map((event) => event.data)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    const next = store.listEvents({ afterId: first[2]?.id, limit: 3 });
    expect(next.map((event) => event.data)).toEqual([{ i: 3 }, { i: 4 }, { i: 5 }]);
    const rest = store.listEvents({ afterId: next[2]?.id, limit: 3 });
    expect(rest).toEqual([{ id: ids[6], at: 1006, kind: 'health', server: 'nas', data: { i: 6 } }]);
    expect(store.listEvents({ afterId: ids[6], limit: 3 })).toEqual([]);

    expect(store.listEvents({ server: 'pi', limit: 10 }).map((event) => event.data)).toEqual([{ i: 1 }, { i: 3 }, { i: 5 }]);
    expect(store.listEvents({ server: 'pi', afterId: ids[3], limit: 10 }).map((event) => event.data)).toEqual([{ i: 5 }]);
    expect(store.listEvents({ limit: 0 })).toEqual([]);
    expect(store.listEvents({ limit: -1 })).toEqual([]);
  });

  it('lists the newest events, oldest first, when asked', () => {
    const store = testStore();
    const ids = Array.from({ length: 7 }, (_, i) => store.addEvent({ at: 1000 + i, kind: 'health', server: i % 2 ? 'pi' : 'nas', data: { i } }));
    expect(store.listEvents({ limit: 3, newest: true }).map((event) => event.data)).toEqual([{ i: 4 }, { i: 5 }, { i: 6 }]);
    expect(store.listEvents({ server: 'pi', limit: 2, newest: true }).map((event) => event.data)).toEqual([{ i: 3 }, { i: 5 }]);
    expect(store.listEvents({ afterId: ids[4], limit: 5, newest: true }).map((event) => event.data)).toEqual([{ i: 5 }, { i: 6 }]);
    expect(store.listEvents({ limit: 0, newest: true })).toEqual([]);
  });

  it('stores fleet-wide events and events without data', () => {
    const store = testStore();
    const id = store.addEvent({ at: 5, kind: 'controller-started' });
    expect(store.listEvents({ limit: 10 })).toEqual([{ id, at: 5, kind: 'controller-started', server: null, data: null }]);
  });

  it('never keeps a token secret that slipped into event data', () => {
    const store = testStore();
    const { id, secret, token } = generateJoinToken();
    store.addEvent({ at: 1, kind: 'join-refused', server: 'nas', data: { error: `bad token ${token}` } });
    const [event] = store.listEvents({ limit: 1 });
    expect(event?.data).toEqual({ error: `bad token cst_${id}.***` });
    expect(JSON.stringify(event)).not.toContain(secret);
  });
});
