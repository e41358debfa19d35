import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueServerCert, type CertificateAuthority, type KeyPairPem } from '../controller/ca.js';
import { fetchPinnedCa, normalizeFingerprint } from './ca-pin.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

/** An https server on 127.0.0.1 that counts TCP connections and HTTP requests. */
async function controller(pair: KeyPairPem) {
  const seen = { connections: 0, requests: 0 };
  const server = createHttpsServer({ cert: pair.certPem, key: pair.keyPem }, (_req, res) => {
    seen.requests += 1;
    res.end('ok');
  });
  server.on('connection', (socket) => {
    seen.connections += 1;
    socket.on('error', () => {}); // the pinning client hangs up right after the handshake
  });
  const port = await listen(server);
  return { url: `https://127.0.0.1:${port}`, seen };
}

describe('fetchPinnedCa', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  let good: KeyPairPem;
  beforeAll(async () => {
    [ca, other] = await Promise.all([createCA(), createCA()]);
    const issued = await issueServerCert(ca, { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    good = { certPem: issued.certPem + ca.certPem, keyPem: issued.keyPem };
  });

  it('returns the CA when its fingerprint matches, in any accepted spelling', async () => {
    const { url, seen } = await controller(good);
    expect(await fetchPinnedCa(url, ca.fingerprint)).toEqual({ caPem: ca.certPem, fingerprint: ca.fingerprint });
    const bare = ca.fingerprint.slice('sha256:'.length).toUpperCase();
    expect((await fetchPinnedCa(`${url}/some/path`, bare)).fingerprint).toBe(ca.fingerprint);
    expect(seen.requests).toBe(0);
  });

  it('refuses another CA and sends the server nothing', async () => {
    const { url, seen } = await controller(good);
    const error = await fetchPinnedCa(url, other.fingerprint).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_CA_MISMATCH' });
    expect((error as Error).message).toBe(
      `the controller's CA is ${ca.fingerprint}, the join command expected ${other.fingerprint}: refusing to talk to it`,
    );
    await sleep(50);
    expect(seen.connections).toBe(1);
    expect(seen.requests).toBe(0);
  });

  it('refuses a server that shows the right CA but a certificate that CA did not sign', async () => {
    const impostor = await issueServerCert(other, { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const { url, seen } = await controller({ certPem: impostor.certPem + ca.certPem, keyPem: impostor.keyPem });
    await expect(fetchPinnedCa(url, ca.fingerprint)).rejects.toMatchObject({ code: 'E_CA_MISMATCH', message: /not signed by the expected CA/ });
    expect(seen.requests).toBe(0);
  });

  it('refuses a certificate from the right CA that is not valid for the host in the URL', async () => {
    const issued = await issueServerCert(ca, { dnsNames: ['nas.home.arpa'], ips: [] });
    const { url } = await controller({ certPem: issued.certPem + ca.certPem, keyPem: issued.keyPem });
    await expect(fetchPinnedCa(url, ca.fingerprint)).rejects.toMatchObject({ code: 'E_CA_MISMATCH', message: /not valid for 127\.0\.0\.1/ });
  });

  it('reports a closed port as unreachable, naming the URL', async () => {
    const port = await listen(createTcpServer());
    await new Promise((done) => servers.pop()?.close(done));
    await expect(fetchPinnedCa(`https://127.0.0.1:${port}/`, ca.fingerprint)).rejects.toMatchObject({
      code: 'E_CONTROLLER_UNREACHABLE',
      message: new RegExp(`https://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    });
  });

  it('gives up on a server that never answers the handshake', async () => {
    // resume(): read and drop the ClientHello, so the server notices when the client hangs up.
    const port = await listen(createTcpServer((socket) => socket.on('error', () => {}).resume()));
    await expect(fetchPinnedCa(`https://127.0.0.1:${port}`, ca.fingerprint, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'E_CONTROLLER_UNREACHABLE',
      message: /no TLS handshake within 200 ms/,
    });
  });

  it('rejects malformed input before connecting', async () => {
    expect(() => normalizeFingerprint('sha256:abc')).toThrow(/malformed/);
    expect(normalizeFingerprint(` SHA256:${'AB:'.repeat(31)}AB `)).toBe('ab'.repeat(32));
    await expect(fetchPinnedCa('http://127.0.0.1:1', ca.fingerprint)).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});
