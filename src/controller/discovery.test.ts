import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { advertiseAgent } from '../agent/advertise.js';
import { intelN100 } from '../agent/fixtures/pcs.js';
import { CONTROLLER_SERVICE, keyFingerprint, parseControllerTxt, shortFingerprint } from '../discovery/records.js';
import type { PendingMessage } from '../protocol/messages.js';
import { testController, TEST_CA_FINGERPRINT, type TestController } from '../testing/controller.js';
import { fakeMdnsNetwork, type FakeMdnsNetwork } from '../testing/mdns.js';
import { authenticateAgent } from './auth.js';
import type { DiscoveredBox } from './discovered.js';

const open: TestController[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const c of open.splice(0)) await c.close();
});

async function controller(network: FakeMdnsNetwork = fakeMdnsNetwork()): Promise<TestController> {
  const c = await testController({ mdns: network.member('10.0.0.1') });
  open.push(c);
  return c;
}

const admin = (c: TestController) => ({ authorization: `Bearer ${c.adminToken}` });

async function box(name: string) {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  return { name, identity, recipient, fingerprint: keyFingerprint(recipient) };
}

/** A `--discoverable` box's connection: the hello sent, every message kept. */
async function waitingBox(c: TestController, b: { name: string; recipient: string }) {
  const ws = await c.app.injectWS('/v1/agent/pending');
  sockets.push(ws);
  const messages: PendingMessage[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as PendingMessage));
  ws.on('close', (code: number, reason: Buffer) => { closed = { code, reason: reason.toString() }; });
  ws.send(JSON.stringify({ type: 'pending-hello', hostname: `${b.name}.lan`, name: b.name, version: '0.1.0 (protocol 1)', ageRecipient: b.recipient, facts: intelN100 }));
  return { ws, messages, closed: () => closed };
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 2_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function discovered(c: TestController): Promise<DiscoveredBox[]> {
  const res = await c.app.inject({ method: 'GET', url: '/v1/discovered', headers: admin(c) });
  expect(res.statusCode).toBe(200);
  return res.json().boxes;
}

const approve = (c: TestController, body: Record<string, unknown>) => c.app.inject({ method: 'POST', url: '/v1/discovered/approve', headers: admin(c), payload: body });
const reject = (c: TestController, body: unknown) => c.app.inject({ method: 'POST', url: '/v1/discovered/reject', headers: admin(c), payload: body as Record<string, unknown> });
const unreject = (c: TestController, body: Record<string, unknown>) => c.app.inject({ method: 'POST', url: '/v1/discovered/unreject', headers: admin(c), payload: body });

describe('discovery on the controller', () => {
  it('advertises the controller with its CA fingerprint', async () => {
    const network = fakeMdnsNetwork();
    await controller(network);
    const [record] = network.published(CONTROLLER_SERVICE);
    expect(record?.port).toBe(7443);
    expect(parseControllerTxt(record?.txt)).toMatchObject({ caFingerprint: TEST_CA_FINGERPRINT });
  });

  it('acknowledges a waiting box, lists it with its key and facts, and on approval sends a credential only its key opens', async () => {
    const c = await controller();
    const attic = await box('attic-pi');
    const pending = await waitingBox(c, attic);
    const ack = await until('the acknowledgement', () => pending.messages.find((m) => m.type === 'pending-ack'));
    expect(ack).toEqual({ type: 'pending-ack', name: 'attic-pi', fingerprint: attic.fingerprint });
    expect(await discovered(c)).toMatchObject([{ name: 'attic-pi', fingerprint: attic.fingerprint, approvable: true, seenBy: ['connection'], profile: 'intel-quicksync', hardware: expect.stringMatching(/^x86_64, 4 cores, 15\.\d GiB/) }]);

    const res = await approve(c, { names: [shortFingerprint(attic.fingerprint).slice(0, 9)], group: 'family' });
    expect(res.statusCode).toBe(200);
    const [approved] = res.json().approved;
    expect(approved).toMatchObject({ name: 'attic-pi', fingerprint: attic.fingerprint });

    const message = await until('the credential', () => pending.messages.find((m) => m.type === 'approved'));
    if (message.type !== 'approved') throw new Error('unreachable');
    expect(message.sealedCredential).not.toMatch(/cag_/);
    const decrypter = new Decrypter();
    decrypter.addIdentity(attic.identity);
    const credential = await decrypter.decrypt(Buffer.from(message.sealedCredential, 'base64'), 'text');
    const agent = authenticateAgent(c.store, credential);
    expect(agent).toMatchObject({ id: approved.agentId, name: 'attic-pi', group: 'family', ageRecipient: attic.recipient });
    // Another key cannot open it.
    const stranger = new Decrypter();
    stranger.addIdentity(await generateX25519Identity());
    await expect(stranger.decrypt(Buffer.from(message.sealedCredential, 'base64'), 'text')).rejects.toThrow();

    await until('the pending connection closed', () => pending.closed());
    expect(await discovered(c)).toEqual([]);
    const kinds = c.core.events.list({ limit: 100 }).map((e) => [e.kind, e.server, (e.data as Record<string, unknown>)?.via]);
    expect(kinds).toEqual(expect.arrayContaining([['discovered', null, 'connection'], ['registered', 'attic-pi', 'approval']]));
    expect(c.logs()).not.toContain(credential);
  });

  it('lists a box seen only by mDNS as not approvable, refuses to approve it, and hides it once registered', async () => {
    const network = fakeMdnsNetwork();
    const c = await controller(network);
    const shed = await box('shed');
    const ad = advertiseAgent(network.member('10.0.0.9'), { id: '', name: 'shed', fingerprint: shed.fingerprint, facts: intelN100 });
    let seen: DiscoveredBox[] = [];
    for (let i = 0; i < 200 && seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
      seen = await discovered(c);
    }
    expect(seen).toMatchObject([{ name: 'shed', address: '10.0.0.9', approvable: false, seenBy: ['mdns'], profile: 'intel-quicksync' }]);
    const refused = await approve(c, { names: ['shed'] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('E_NOT_APPROVABLE');

    // The same box, now waiting: approvable; approved, its record (with its id) no longer lists it.
    const pending = await waitingBox(c, shed);
    await until('the acknowledgement', () => pending.messages.find((m) => m.type === 'pending-ack'));
    expect((await approve(c, { names: ['shed'] })).statusCode).toBe(200);
    const agentId = await until('the credential', () => pending.messages.find((m) => m.type === 'approved'));
    if (agentId.type === 'approved') await ad.registered(agentId.agentId);
    await new Promise((r) => setTimeout(r, 20));
    expect(await discovered(c)).toEqual([]);
  });

  it('checks every name before approving any: an unknown or ambiguous name approves nothing', async () => {
    const c = await controller();
    const a = await box('twin');
    const b = await box('twin');
    const solo = await box('solo');
    for (const x of [a, b, solo]) {
      const p = await waitingBox(c, x);
      await until('ack', () => p.messages.find((m) => m.type === 'pending-ack'));
    }
    const unknown = await approve(c, { names: ['solo', 'nobody'] });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'E_DISCOVERED_NOT_FOUND']);
    const ambiguous = await approve(c, { names: ['solo', 'twin'] });
    expect([ambiguous.statusCode, ambiguous.json().error.code]).toEqual([409, 'E_DISCOVERED_AMBIGUOUS']);
    expect(ambiguous.json().error.message).toContain(a.fingerprint.slice(7, 23));
    expect((await discovered(c)).map((x) => x.name)).toEqual(['solo', 'twin', 'twin']);
    const all = await approve(c, { all: true });
    expect(all.json().approved.map((x: { name: string }) => x.name).sort()).toEqual(['solo', 'twin', 'twin-2']);
    expect(await discovered(c)).toEqual([]);
  });

  it('refuses a malformed hello, and a box whose key is already registered', async () => {
    const c = await controller();
    const bad = await c.app.injectWS('/v1/agent/pending');
    sockets.push(bad);
    const closed = new Promise<number>((resolve) => bad.on('close', (code: number) => resolve(code)));
    bad.send(JSON.stringify({ type: 'pending-hello', hostname: 'x' }));
    expect(await closed).toBe(4400);

    const known = await box('known');
    const first = await waitingBox(c, known);
    await until('ack', () => first.messages.find((m) => m.type === 'pending-ack'));
    await approve(c, { names: ['known'] });
    const again = await waitingBox(c, known);
    const rejected = await until('the refusal', () => again.messages.find((m) => m.type === 'rejected'));
    expect(rejected).toMatchObject({ reason: expect.stringContaining('already has this key') });
    expect(await discovered(c)).toEqual([]);
  });

  it('rejects named boxes after checking every name: the box is told why, remembered by key, and refused at once when it returns', async () => {
    const network = fakeMdnsNetwork();
    const c = await controller(network);
    const attic = await box('attic-pi');
    const shed = await box('shed');
    const pending = await waitingBox(c, attic);
    await until('ack', () => pending.messages.find((m) => m.type === 'pending-ack'));
    advertiseAgent(network.member('10.0.0.9'), { id: '', name: 'shed', fingerprint: shed.fingerprint, facts: intelN100 });
    for (let i = 0; i < 200 && (await discovered(c)).length < 2; i++) await new Promise((r) => setTimeout(r, 5));

    const unknown = await reject(c, { names: ['attic-pi', 'nobody'] });
    expect([unknown.statusCode, unknown.json().error]).toEqual([404, expect.objectContaining({ code: 'E_DISCOVERED_NOT_FOUND', message: expect.stringContaining('"nobody"') })]);
    expect((await discovered(c)).map((b) => b.name)).toEqual(['attic-pi', 'shed']);
    expect(pending.closed()).toBeUndefined();

    // A box seen only on the network can be rejected too (there is nothing to tell it).
    const res = await reject(c, { names: ['attic-pi', shortFingerprint(shed.fingerprint)] });
    expect(res.statusCode).toBe(200);
    expect(res.json().rejected).toMatchObject([{ name: 'attic-pi', fingerprint: attic.fingerprint }, { name: 'shed', fingerprint: shed.fingerprint, address: '10.0.0.9' }]);
    const told = await until('the refusal', () => pending.messages.find((m) => m.type === 'rejected'));
    expect(told).toEqual({ type: 'rejected', reason: expect.stringContaining(`the controller's admin rejected this box (key ${shortFingerprint(attic.fingerprint)})`) });
    expect(await until('closed', () => pending.closed())).toEqual({ code: 4403, reason: 'rejected by the admin' });
    expect(await discovered(c)).toEqual([]);

    // Still sighted, and back again: neither listed nor a new 'discovered' event.
    const again = await waitingBox(c, attic);
    await until('the refusal', () => again.messages.find((m) => m.type === 'rejected'));
    expect(again.messages.some((m) => m.type === 'pending-ack')).toBe(false);
    expect(await discovered(c)).toEqual([]);
    const events = c.core.events.list({ limit: 100 });
    expect(events.filter((e) => e.kind === 'discovered')).toHaveLength(2);
    expect(events.filter((e) => e.kind === 'box-rejected').map((e) => e.data)).toEqual([
      expect.objectContaining({ name: 'attic-pi', fingerprint: attic.fingerprint }), // an injected socket has no address
      { name: 'shed', address: '10.0.0.9', fingerprint: shed.fingerprint },
    ]);

    const listed = await c.app.inject({ method: 'GET', url: '/v1/discovered/rejected', headers: admin(c) });
    expect(listed.json().rejected.map((r: { name: string }) => r.name)).toEqual(['attic-pi', 'shed']);
  });

  it('unrejects a box by name or key, so it may wait and be approved again', async () => {
    const c = await controller();
    const attic = await box('attic-pi');
    const first = await waitingBox(c, attic);
    await until('ack', () => first.messages.find((m) => m.type === 'pending-ack'));
    expect((await reject(c, { all: true })).json().rejected).toHaveLength(1);

    const missing = await unreject(c, { box: 'attic' });
    expect([missing.statusCode, missing.json().error]).toEqual([404, expect.objectContaining({ code: 'E_REJECTED_NOT_FOUND', message: expect.stringContaining('"attic"') })]);
    const res = await unreject(c, { box: attic.fingerprint.slice(7, 15) });
    expect(res.statusCode).toBe(200);
    expect(res.json().unrejected).toMatchObject({ name: 'attic-pi', fingerprint: attic.fingerprint });
    expect(c.core.events.list({ limit: 100 }).at(-1)).toMatchObject({ kind: 'box-unrejected', server: null, data: { name: 'attic-pi', fingerprint: attic.fingerprint } });
    expect((await c.app.inject({ method: 'GET', url: '/v1/discovered/rejected', headers: admin(c) })).json().rejected).toEqual([]);

    const second = await waitingBox(c, attic);
    await until('ack', () => second.messages.find((m) => m.type === 'pending-ack'));
    expect((await approve(c, { names: ['attic-pi'] })).json().approved).toMatchObject([{ name: 'attic-pi' }]);
  });

  it('names the field of a malformed reject or unreject body', async () => {
    const c = await controller();
    const cases: Array<[unknown, string]> = [
      [{}, 'body.names: give the boxes to reject, or all: true (not both)'],
      [{ names: ['a'], all: true }, 'body.names: give the boxes to reject, or all: true (not both)'],
      [{ names: [] }, 'body.names: '],
      [{ names: [''] }, 'body.names.0: '],
      [{ all: false }, 'body.all: '],
    ];
    for (const [payload, message] of cases) {
      const res = await reject(c, payload);
      expect([res.statusCode, res.json().error.code], JSON.stringify(payload)).toEqual([400, 'E_BAD_REQUEST']);
      expect(res.json().error.message, JSON.stringify(payload)).toContain(message);
    }
    const res = await unreject(c, { name: 'x' });
    expect([res.statusCode, res.json().error.message]).toEqual([400, expect.stringMatching(/^body\.box: /)]);
  });

  it('needs the admin token to list, approve, reject or unreject', async () => {
    const c = await controller();
    expect((await c.app.inject({ method: 'GET', url: '/v1/discovered' })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'POST', url: '/v1/discovered/approve', payload: { all: true } })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'POST', url: '/v1/discovered/reject', payload: { all: true } })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'GET', url: '/v1/discovered/rejected' })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'POST', url: '/v1/discovered/unreject', payload: { box: 'x' } })).statusCode).toBe(401);
  });
});
