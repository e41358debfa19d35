import { describe, expect, it } from 'vitest';
import { CisternError } from '../errors.js';
import { fakeEd25519 } from '../testing/ssh-keys.js';
import type { PushResult } from './ssh-push.js';
import { chooseVia, syncKeys, type SyncTarget } from './sync.js';

const target = (server: string, port = 22, via: SyncTarget['via'] = 'ssh'): SyncTarget => ({ server, host: '127.0.0.1', port, user: 'root', via, keys: [{ name: 'a', key: fakeEd25519(1) }] });
const pushed = (changed: boolean): PushResult => ({
  path: '/root/.ssh/authorized_keys', changed, added: changed ? [{ name: 'a', key: fakeEd25519(1) }] : [],
  removed: [{ name: undefined, material: fakeEd25519(2).split(' ').slice(0, 2).join(' ') }], hostKey: { fingerprint: 'SHA256:x', pinned: true },
});

describe('syncKeys', () => {
  it('reports every server, a failure beside the successes, in the given order', async () => {
    const results = await syncKeys([target('a'), target('b', 2222), target('c')], {
      concurrency: 2,
      async push(t) {
        if (t.server === 'b') throw new CisternError('E_SSH_CONNECT', 'ECONNREFUSED: cannot connect to 127.0.0.1:2222');
        return pushed(t.server === 'a');
      },
    });
    expect(results.map((r) => [r.server, r.ok, r.changed])).toEqual([['a', true, true], ['b', false, false], ['c', true, false]]);
    expect(results[1]).toMatchObject({ address: '127.0.0.1:2222', error: { code: 'E_SSH_CONNECT' }, host_key: null, keys: ['a'] });
    expect(results[0]).toMatchObject({ added: ['a'], host_key: { pinned: true } });
    expect(results[0]?.removed[0]).toMatch(/^SHA256:/); // an unnamed key is shown by fingerprint
  });

  it('says which way each server went; an agent push has no host key', async () => {
    const results = await syncKeys([target('a', 22, 'agent'), target('b'), target('c', 22, 'agent')], {
      concurrency: 2,
      async push(t) {
        if (t.server === 'c') throw new CisternError('E_AGENT_OFFLINE', 'the agent disconnected before answering');
        return { ...pushed(true), hostKey: t.via === 'agent' ? null : { fingerprint: 'SHA256:x', pinned: false } };
      },
    });
    expect(results.map((r) => [r.server, r.via, r.ok, r.host_key])).toEqual([
      ['a', 'agent', true, null],
      ['b', 'ssh', true, { fingerprint: 'SHA256:x', pinned: false }],
      ['c', 'agent', false, null],
    ]);
    expect(results[2]?.error).toMatchObject({ code: 'E_AGENT_OFFLINE' });
  });

  it('reports a bug in one push as an error without a code, not as a crash', async () => {
    const [result] = await syncKeys([target('a')], { concurrency: 1, push: () => Promise.reject(new TypeError('oops')) });
    expect(result?.error).toEqual({ code: null, message: 'oops' });
  });

  it('keeps at most `concurrency` pushes running', async () => {
    let running = 0;
    let peak = 0;
    await syncKeys(Array.from({ length: 10 }, (_, i) => target(`s${i}`)), {
      concurrency: 3,
      async push() {
        peak = Math.max(peak, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return pushed(false);
      },
    });
    expect(peak).toBe(3);
  });
});

describe('chooseVia', () => {
  const connected = new Set(['eden']);
  it('auto: the agent where the controller says it is connected, SSH elsewhere and without a controller', () => {
    expect(chooseVia('auto', 'eden', connected)).toBe('agent');
    expect(chooseVia('auto', 'new-box', connected)).toBe('ssh');
    expect(chooseVia('auto', 'eden', undefined)).toBe('ssh');
  });

  it('agent and ssh are kept whatever is connected', () => {
    expect(chooseVia('agent', 'new-box', connected)).toBe('agent');
    expect(chooseVia('ssh', 'eden', connected)).toBe('ssh');
  });
});
