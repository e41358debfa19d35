/**
 * Trust on a pinned fingerprint (kubeadm's discovery hash): before an agent sends its join token,
 * it takes the CA from the controller's own TLS handshake and accepts it only if its SHA-256
 * matches the one in the join command. Nothing is sent over the connection, so a wrong server
 * learns nothing. Proof of possession comes from the handshake itself: OpenSSL checks the server's
 * handshake signature against the leaf key even with rejectUnauthorized off, so a replayed
 * certificate chain without its private key cannot get this far.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { CisternError } from '../errors.js';

export interface PinnedCa {
  caPem: string;
  /** `sha256:` + lowercase hex of the SHA-256 of the CA certificate's DER. */
  fingerprint: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_CHAIN = 8;

export async function fetchPinnedCa(controllerUrl: string, expectedFingerprint: string, options: { timeoutMs?: number } = {}): Promise<PinnedCa> {
  const expected = normalizeFingerprint(expectedFingerprint);
  return fetchCa(controllerUrl, options, (actual) => (actual === expected ? undefined : {
    why: `the controller's CA is sha256:${actual}, the join command expected sha256:${expected}`, expected,
  }));
}

/**
 * Trust on first use, for `--discoverable` boxes only: whatever CA the controller presents is
 * taken, provided its chain is signed and names the host; the caller shows the fingerprint and
 * keeps the CA pinned from then on.
 */
export async function fetchCaOnFirstUse(controllerUrl: string, options: { timeoutMs?: number } = {}): Promise<PinnedCa> {
  return fetchCa(controllerUrl, options, () => undefined);
}

async function fetchCa(controllerUrl: string, options: { timeoutMs?: number }, pin: (actual: string) => { why: string; expected: string } | undefined): Promise<PinnedCa> {
  const url = parseControllerUrl(controllerUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const leaf = await peerChain(url, host, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const chain = walkChain(leaf);
  const root = chain[chain.length - 1] ?? leaf;
  const actual = sha256(root.raw);
  const mismatch = pin(actual);
  const expected = mismatch?.expected ?? actual;
  const refuse = (why: string) => new CisternError('E_CA_MISMATCH', `${why}: refusing to talk to it`, {
    hint: 'get a fresh join command from the controller; if the controller was not reinstalled, something may be intercepting the connection',
    details: { url: url.origin, expected: `sha256:${expected}`, actual: `sha256:${actual}` },
  });
  if (mismatch) throw refuse(mismatch.why);
  if (!chainIsSigned(chain)) {
    throw refuse(`the certificate from ${url.origin} is not signed by the expected CA sha256:${expected}`);
  }
  const identityError = checkServerIdentity(host, leaf);
  if (identityError) throw refuse(`the certificate from ${url.origin} is not valid for ${host} (${identityError.message})`);
  return { caPem: new X509Certificate(root.raw).toString(), fingerprint: `sha256:${actual}` };
}

/** Accepts `sha256:<hex>` or bare hex, any case, with or without colons between bytes. */
export function normalizeFingerprint(text: string): string {
  const hex = text.trim().replace(/^sha256:/i, '').replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CisternError('E_USAGE', `the CA fingerprint "${text}" is malformed: expected sha256: followed by 64 hex digits`, { exitCode: 2 });
  }
  return hex;
}

function parseControllerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CisternError('E_USAGE', 'the controller URL is malformed: expected https://HOST[:PORT]', { exitCode: 2 });
  }
  if (url.protocol !== 'https:') {
    throw new CisternError('E_USAGE', `the controller URL ${url.origin} must start with https://`, { exitCode: 2 });
  }
  return url;
}

/** Completes a TLS handshake, takes the peer's chain and hangs up without writing a byte. */
function peerChain(url: URL, host: string, timeoutMs: number): Promise<DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port: Number(url.port || 443),
      // SNI carries names only; sending an IP there is a protocol violation.
      ...(isIP(host) === 0 && { servername: host }),
      // The chain is checked below against the pin; the system roots have no say here.
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const fail = (why: string, cause?: unknown) => {
      socket.destroy();
      reject(new CisternError('E_CONTROLLER_UNREACHABLE', `could not reach the controller at ${url.origin}: ${why}`, {
        hint: 'check the URL, that the controller is running, and any firewall between this machine and it',
        cause,
      }));
    };
    socket.once('secureConnect', () => {
      const leaf = socket.getPeerCertificate(true);
      socket.destroy();
      if (!leaf.raw) fail('it presented no certificate');
      else resolve(leaf);
    });
    socket.once('timeout', () => fail(`no TLS handshake within ${timeoutMs} ms`));
    socket.once('error', (error) => fail(error.message, error));
  });
}

/** Leaf first, then each issuer the peer sent, up to a self-signed certificate. */
function walkChain(leaf: DetailedPeerCertificate): PeerCertificate[] {
  const chain: DetailedPeerCertificate[] = [leaf];
  for (let at = leaf; chain.length < MAX_CHAIN; ) {
    const issuer = at.issuerCertificate as DetailedPeerCertificate | undefined;
    if (!issuer?.raw || issuer === at || issuer.raw.equals(at.raw)) break;
    chain.push(issuer);
    at = issuer;
  }
  return chain;
}

/**
 * Every certificate is issued and signed by the next one, which must be a CA. A lone certificate
 * passes only if self-signed: then it is the pinned certificate itself.
 */
function chainIsSigned(chain: PeerCertificate[]): boolean {
  const certs = chain.map((peer) => new X509Certificate(peer.raw));
  const [only] = certs;
  if (certs.length === 1 && only) return only.checkIssued(only) && only.verify(only.publicKey);
  return certs.slice(0, -1).every((child, i) => {
    const parent = certs[i + 1];
    return parent !== undefined && parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey);
  });
}

function sha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
