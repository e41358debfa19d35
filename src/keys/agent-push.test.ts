import { describe, expect, it } from 'vitest';
import { CisternError } from '../errors.js';
import { ED25519 } from '../testing/ssh-keys.js';
import { applyViaAgent, type CommandClient } from './agent-push.js';
import type { SyncTarget } from './sync.js';

const target: SyncTarget = { server: 'eden', host: '192.168.1.10', port: 22, user: 'deploy', via: 'agent', keys: [{ name: 'alice', key: ED25519 }] };

/** A controller that answers every command with `reply`, remembering what it was sent. */
function controller(reply: unknown) {
  const sent: Array<{ path: string; body: unknown; timeoutMs: number | undefined }> = [];
  const client: CommandClient = {
    async post<T>(path: string, body: unknown, options?: { timeoutMs?: number }) {
      sent.push({ path, body, timeoutMs: options?.timeoutMs });
      return reply as T;
    },
  };
  return { client, sent };
}

describe('applyViaAgent', () => {
  it('sends apply-authorized-keys for the deploy user and reads the agent\'s answer, with no host key', async () => {
    const { client, sent } = controller({
      ok: true, error: null,
      data: { path: '/home/deploy/.ssh/authorized_keys', changed: true, added: [target.keys[0]], removed: [{ name: null, material: 'ssh-rsa AAAA' }], keys: ['alice'] },
    });
    const applied = await applyViaAgent(client, target, 7_000);
    expect(sent).toEqual([{
      path: '/v1/servers/eden/commands',
      body: { name: 'apply-authorized-keys', args: { user: 'deploy', keys: target.keys }, timeoutMs: 7_000 },
      timeoutMs: 12_000,
    }]);
    expect(applied).toEqual({
      path: '/home/deploy/.ssh/authorized_keys', changed: true, added: target.keys,
      removed: [{ name: undefined, material: 'ssh-rsa AAAA' }], hostKey: null,
    });
  });

  it('turns the agent\'s coded failure into the same CisternError, hint kept', async () => {
    const { client } = controller({ ok: false, data: null, error: 'no user "deploy" in /etc/passwd', code: 'E_USER_NOT_FOUND', hint: 'create the user' });
    const error = await applyViaAgent(client, target, 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CisternError);
    expect(error).toMatchObject({ code: 'E_USER_NOT_FOUND', message: 'no user "deploy" in /etc/passwd', hint: 'create the user' });
  });

  it('reports a failure without a known code, or an answer it cannot read, as a bug of the agent', async () => {
    const uncoded = await applyViaAgent(controller({ ok: false, data: null, error: 'boom', code: null }).client, target, 1_000).catch((e: unknown) => e);
    expect(uncoded).not.toBeInstanceOf(CisternError);
    expect((uncoded as Error).message).toBe('the agent of eden failed: boom');
    const garbled = await applyViaAgent(controller({ ok: true, data: { path: 1 } }).client, target, 1_000).catch((e: unknown) => e);
    expect(garbled).not.toBeInstanceOf(CisternError);
    expect((garbled as Error).message).toMatch(/^the agent of eden answered apply-authorized-keys with unexpected data \(path: /);
  });
});
