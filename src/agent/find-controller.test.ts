import { describe, expect, it } from 'vitest';
import { CONTROLLER_SERVICE, controllerTxt } from '../discovery/records.js';
import { fakeMdnsNetwork } from '../testing/mdns.js';
import { findController } from './find-controller.js';

const ours = `sha256:${'a1'.repeat(32)}`;
const theirs = `sha256:${'b2'.repeat(32)}`;

function controllerAt(network: ReturnType<typeof fakeMdnsNetwork>, address: string, ca: string) {
  return network.member(address).advertise({ type: CONTROLLER_SERVICE, name: `Cistern controller on ${address}`, port: 7443, txt: controllerTxt({ caFingerprint: ca, version: '0.1.0' }) });
}

describe('finding the controller on the local network', () => {
  it('takes the controller whose advertised CA matches the key, passing over others', async () => {
    const network = fakeMdnsNetwork();
    controllerAt(network, '192.168.1.7', theirs);
    controllerAt(network, '192.168.1.5', ours);
    const found = await findController(network.member('192.168.1.20'), { caFingerprint: ours, timeoutMs: 2_000, queryIntervalMs: 20 });
    expect(found).toEqual({ url: 'https://192.168.1.5:7443', caFingerprint: ours });
  });

  it('finds one that starts advertising later, by asking again', async () => {
    const network = fakeMdnsNetwork();
    const finding = findController(network.member('192.168.1.20'), { timeoutMs: 2_000, queryIntervalMs: 20 });
    setTimeout(() => controllerAt(network, '192.168.1.5', ours), 100);
    expect((await finding).url).toBe('https://192.168.1.5:7443');
  });

  it('gives up after its timeout, naming the controllers that did answer', async () => {
    const network = fakeMdnsNetwork();
    controllerAt(network, '192.168.1.7', theirs);
    await expect(findController(network.member('192.168.1.20'), { caFingerprint: ours, timeoutMs: 200, queryIntervalMs: 20 }))
      .rejects.toMatchObject({ code: 'E_CONTROLLER_NOT_FOUND', message: expect.stringContaining('192.168.1.7') });
  });

  it('stops looking when aborted, even without a timeout', async () => {
    const network = fakeMdnsNetwork();
    const stop = new AbortController();
    const finding = findController(network.member('192.168.1.20'), { timeoutMs: Number.POSITIVE_INFINITY, queryIntervalMs: 20, signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    await expect(finding).rejects.toMatchObject({ code: 'E_CONTROLLER_NOT_FOUND' });
  });
});
