import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/tmp.js';
import { x509 } from '../util/x509.js';
import { caFingerprint, createCA, issueServerCert, loadOrCreatePki, type CertificateAuthority, type KeyPairPem } from './ca.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

async function serve(pair: KeyPairPem): Promise<number> {
  const server = createServer({ cert: pair.certPem, key: pair.keyPem }, (_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

/** GET / over TLS to 127.0.0.1, trusting only `ca` and checking the certificate against `servername`. */
function fetchText(port: number, ca: string, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, ca, servername, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('controller CA', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  beforeAll(async () => {
    [ca, other] = await Promise.all([createCA(), createCA({ commonName: 'someone else' })]);
  });

  it('is a self-signed ECDSA P-256 CA valid for ten years', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const made = await createCA({ commonName: 'Test, "quoted" CA', now });
    const cert = new X509Certificate(made.certPem);
    expect(cert.ca).toBe(true);
    expect(new x509.X509Certificate(made.certPem).subjectName.getField('CN')).toEqual(['Test, "quoted" CA']);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(2036);
    expect(made.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('fingerprints the DER of the certificate', () => {
    const expected = new X509Certificate(ca.certPem).fingerprint256.replaceAll(':', '').toLowerCase();
    expect(ca.fingerprint).toBe(`sha256:${expected}`);
    expect(caFingerprint(ca.certPem)).toBe(ca.fingerprint);
    expect(other.fingerprint).not.toBe(ca.fingerprint);
  });

  it('issues a server certificate that a client trusting the CA accepts for its names', async () => {
    const issued = await issueServerCert(ca, { dnsNames: ['localhost'], ips: ['127.0.0.1', '::1'] });
    const leaf = new X509Certificate(issued.certPem);
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(leaf.checkIP('::1')).toBeDefined();
    const port = await serve({ certPem: issued.certPem + ca.certPem, keyPem: issued.keyPem });
    expect(await fetchText(port, ca.certPem)).toBe('ok');
    expect(await fetchText(port, ca.certPem, 'localhost')).toBe('ok');
    await expect(fetchText(port, ca.certPem, 'elsewhere.example')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    await expect(fetchText(port, other.certPem)).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('needs at least one name', async () => {
    await expect(issueServerCert(ca, { dnsNames: [], ips: [] })).rejects.toThrow(/at least one/);
  });
});

describe('loadOrCreatePki', () => {
  const names = { dnsNames: ['localhost'], ips: ['127.0.0.1'] };

  it('creates the CA and a chained server certificate with private files', async () => {
    const dir = join(tempDir(), 'pki');
    const pki = await loadOrCreatePki(dir, names);
    expect(pki.created).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'server-key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(pki.ca.certPem);
    expect(pki.server.certPem.endsWith(pki.ca.certPem)).toBe(true);
    const port = await serve(pki.server);
    expect(await fetchText(port, pki.ca.certPem, 'localhost')).toBe('ok');
  });

  it('reuses everything on a later call and re-issues only the server certificate for new names', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, names);
    const again = await loadOrCreatePki(dir, names);
    expect(again.created).toBe(false);
    expect(again.ca).toEqual(first.ca);
    expect(again.server).toEqual(first.server);
    const wider = await loadOrCreatePki(dir, { dnsNames: ['localhost', 'nas.home.arpa'], ips: ['127.0.0.1', '192.168.1.5'] });
    expect(wider.ca.fingerprint).toBe(first.ca.fingerprint);
    expect(wider.server.certPem).not.toBe(first.server.certPem);
    const leaf = new X509Certificate(wider.server.certPem);
    expect(leaf.checkHost('nas.home.arpa')).toBeDefined();
    expect(leaf.checkIP('192.168.1.5')).toBeDefined();
  });

  it('replaces a broken server certificate but refuses a CA without its key', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, names);
    writeFileSync(join(dir, 'server.pem'), 'garbage');
    const repaired = await loadOrCreatePki(dir, names);
    expect(repaired.server.certPem).toContain('BEGIN CERTIFICATE');
    expect(repaired.ca.fingerprint).toBe(first.ca.fingerprint);
    writeFileSync(join(dir, 'ca-key.pem'), (await createCA()).keyPem);
    await expect(loadOrCreatePki(dir, names)).rejects.toMatchObject({ code: 'E_PKI_INVALID' });
  });
});
