/**
 * The controller is its own certificate authority. Agents pin the CA by the SHA-256 of its DER
 * (kubeadm's discovery hash), which a join command carries, so an agent can check it reached
 * the right controller before it sends its join token.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CisternError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { x509 } from '../util/x509.js';

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  /** `sha256:` + lowercase hex of the SHA-256 of the certificate's DER. */
  fingerprint: string;
}

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface ServerNames {
  dnsNames: string[];
  ips: string[];
}

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Home servers often have drifting clocks; a certificate "not yet valid" is a confusing failure. */
const BACKDATE_MS = 3_600_000;
/**
 * 825 days is the longest TLS server certificate Apple platforms accept even from a private CA,
 * so a browser on a Mac can open the controller too. The controller re-issues before expiry.
 */
const DEFAULT_SERVER_DAYS = 825;

export async function createCA(options: { commonName?: string; now?: Date } = {}): Promise<CertificateAuthority> {
  const now = options.now ?? new Date();
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: commonName(options.commonName ?? 'Cistern controller CA'),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      // pathLength 0: this CA signs server certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = `${cert.toString('pem')}\n`;
  return { certPem, keyPem: await exportKeyPem(keys.privateKey), fingerprint: caFingerprint(certPem) };
}

/** The pin of a certificate (the first one in `certPem`): `sha256:` + hex of its DER's SHA-256. */
export function caFingerprint(certPem: string): string {
  return fingerprintDer(new X509Certificate(certPem).raw);
}

export function fingerprintDer(der: Uint8Array): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export async function issueServerCert(
  ca: CertificateAuthority,
  options: ServerNames & { validDays?: number; now?: Date },
): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const certPem = await signServerCert(ca, keys.publicKey, options);
  return { certPem, keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * A TLS server certificate from `ca` for a key made elsewhere (an agent keeps its private key
 * and sends only the public one); the names are the caller's choice, never the key holder's.
 */
export async function signServerCert(
  ca: CertificateAuthority,
  publicKey: webcrypto.CryptoKey,
  options: ServerNames & { validDays?: number; now?: Date },
): Promise<string> {
  const names = [
    ...options.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...options.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const first = names[0];
  if (!first) throw new Error('issueServerCert needs at least one DNS name or IP address');
  const now = options.now ?? new Date();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), EC_KEY, false, ['sign']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: commonName(first.value),
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (options.validDays ?? DEFAULT_SERVER_DAYS) * DAY_MS),
    publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return `${cert.toString('pem')}\n`;
}

/** A UTF8String CN taken literally (x509's string and plain JSON forms parse quotes and escapes). */
function commonName(value: string): x509.Name {
  return new x509.Name([{ CN: [{ utf8String: value }] }]);
}

/** A random positive 128-bit serial (the top bit clear, so DER needs no sign byte). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`;
}

export interface Pki {
  ca: CertificateAuthority;
  /** `certPem` holds the server certificate followed by the CA's, so TLS clients get the chain. */
  server: KeyPairPem;
  /** True when this call created a new CA (and so a new fingerprint for join commands). */
  created: boolean;
}

/** A server certificate this close to expiry is re-issued at start-up. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

/**
 * The controller's PKI in `dir`: ca.pem, ca-key.pem, server.pem, server-key.pem. The CA exists
 * once ca.pem does (it is written last) and is never replaced, since every agent pins it. The
 * server certificate is cheap and pinned by no one, so it is re-issued whenever it does not fit:
 * missing, broken, not from this CA, near expiry, or not covering all of `names`.
 */
export async function loadOrCreatePki(dir: string, names: ServerNames): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => join(dir, name);
  let ca = await loadCa(dir);
  const created = ca === undefined;
  if (!ca) {
    ca = await createCA();
    await writeFileAtomic(file('ca-key.pem'), ca.keyPem, { mode: 0o600 });
    await writeFileAtomic(file('ca.pem'), ca.certPem, { mode: 0o644 });
  }
  let server = await loadServer(dir);
  if (!server || !serverFits(server, ca, names)) {
    const issued = await issueServerCert(ca, names);
    server = { certPem: issued.certPem + ca.certPem, keyPem: issued.keyPem };
    await writeFileAtomic(file('server-key.pem'), server.keyPem, { mode: 0o600 });
    await writeFileAtomic(file('server.pem'), server.certPem, { mode: 0o644 });
  }
  return { ca, server, created };
}

async function loadCa(dir: string): Promise<CertificateAuthority | undefined> {
  const certPem = await readOptional(join(dir, 'ca.pem'));
  if (certPem === undefined) return undefined;
  const keyPath = join(dir, 'ca-key.pem');
  const keyPem = await readOptional(keyPath);
  const hint = `agents pin this CA, so restore ${keyPath} from a backup rather than deleting ca.pem, or re-join every agent`;
  if (keyPem === undefined) throw new CisternError('E_PKI_INVALID', `${keyPath} is missing, so the controller's CA cannot sign certificates`, { hint });
  try {
    if (!sameKey(new X509Certificate(certPem), keyPem)) throw new Error('the key does not belong to the certificate');
  } catch (error) {
    throw new CisternError('E_PKI_INVALID', `the CA in ${dir} is unusable: ca.pem and ca-key.pem do not form a pair`, { hint, cause: error });
  }
  return { certPem, keyPem, fingerprint: caFingerprint(certPem) };
}

async function loadServer(dir: string): Promise<KeyPairPem | undefined> {
  const certPem = await readOptional(join(dir, 'server.pem'));
  const keyPem = await readOptional(join(dir, 'server-key.pem'));
  return certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
}

function serverFits(server: KeyPairPem, ca: CertificateAuthority, names: ServerNames): boolean {
  try {
    const caCert = new X509Certificate(ca.certPem);
    const blocks = x509.PemConverter.decode(server.certPem);
    const leaf = new X509Certificate(server.certPem);
    const chainEndsWithCa = blocks.length === 2 && Buffer.from(blocks[1] ?? new ArrayBuffer(0)).equals(caCert.raw);
    return (
      chainEndsWithCa &&
      leaf.checkIssued(caCert) &&
      leaf.verify(caCert.publicKey) &&
      Date.parse(leaf.validTo) - Date.now() > RENEW_BEFORE_MS &&
      names.dnsNames.every((name) => leaf.checkHost(name) !== undefined) &&
      names.ips.every((ip) => leaf.checkIP(ip) !== undefined) &&
      sameKey(leaf, server.keyPem)
    );
  } catch {
    return false; // unparsable files are simply replaced
  }
}

function sameKey(cert: X509Certificate, keyPem: string): boolean {
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  return fromKey.equals(cert.publicKey.export({ type: 'spki', format: 'der' }));
}

/** A PKI file's text, or undefined when it does not exist; any other failure is E_PKI_INVALID. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CisternError('E_PKI_INVALID', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
