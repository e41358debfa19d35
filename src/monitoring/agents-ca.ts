/**
 * The agents CA: a certificate authority of its own, next to the controller's (pki/agents-ca.pem
 * and agents-ca-key.pem), that signs only the agents' metrics certificates. Agents pin the
 * controller's CA for their connection, never this one, so a box holding an agent certificate
 * for any name cannot pass for the controller; Prometheus trusts it for the agents' job only.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { CisternError } from '../errors.js';
import { caFingerprint, createCA, readOptional, signServerCert, type CertificateAuthority } from '../controller/ca.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { x509 } from '../util/x509.js';
import type { CertNames } from './agent-cert-names.js';

export const AGENTS_CA_FILE = 'agents-ca.pem';
export const AGENTS_CA_KEY_FILE = 'agents-ca-key.pem';
/** Agents are re-certified at every connection, and by the controller well before expiry. */
export const AGENT_CERT_DAYS = 90;

export async function loadOrCreateAgentsCa(pkiDir: string): Promise<CertificateAuthority> {
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const certPath = join(pkiDir, AGENTS_CA_FILE);
  const keyPath = join(pkiDir, AGENTS_CA_KEY_FILE);
  const certPem = await readOptional(certPath);
  const keyPem = await readOptional(keyPath);
  if (certPem !== undefined && keyPem !== undefined) return { certPem, keyPem, fingerprint: caFingerprint(certPem) };
  if (certPem !== undefined) {
    throw new CisternError('E_PKI_INVALID', `${keyPath} is missing, so agents' metrics certificates cannot be signed`, {
      hint: `restore it from a backup, or remove ${certPath} too: a new agents CA means running \`cistern monitoring generate\` again`,
    });
  }
  const ca = await createCA({ commonName: 'Cistern agents metrics CA' });
  await writeFileAtomic(keyPath, ca.keyPem, { mode: 0o600 });
  await writeFileAtomic(certPath, ca.certPem, { mode: 0o644 });
  return ca;
}

/** A certificate for an agent's metrics key (SPKI PEM), for exactly `names`; returns it and its expiry (epoch ms). */
export async function signAgentCert(ca: CertificateAuthority, publicKeyPem: string, names: CertNames, now = new Date()): Promise<{ certPem: string; notAfter: number }> {
  let key: webcrypto.CryptoKey;
  try {
    key = await webcrypto.subtle.importKey('spki', x509.PemConverter.decodeFirst(publicKeyPem), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  } catch (error) {
    throw new CisternError('E_BAD_REQUEST', 'the agent\'s metrics key is not an ECDSA P-256 public key', { cause: error });
  }
  const certPem = await signServerCert(ca, key, { ...names, validDays: AGENT_CERT_DAYS, now });
  return { certPem, notAfter: now.getTime() + AGENT_CERT_DAYS * 86_400_000 };
}
