/**
 * OpenSSH public key lines (`type base64 [comment]`), as in authorized_keys and `*.pub` files,
 * and their fingerprints. Pure: a line in, a verdict out.
 *
 * A key is accepted when its type is one Cistern distributes, its base64 is well formed, and the
 * decoded blob is the wire encoding of a key of that type: the embedded type matches the line's
 * and the blob has exactly the fields of that type, so a key truncated by a bad copy is refused.
 */
import { createHash } from 'node:crypto';

/** Key type → the fields of its blob after the type string (RFC 4253, 5656, 8709; PROTOCOL.u2f). */
const BLOB_FIELDS: Record<string, readonly string[]> = {
  'ssh-ed25519': ['ed25519-key'],
  'ssh-rsa': ['e', 'n'],
  'ecdsa-sha2-nistp256': ['curve:nistp256', 'Q'],
  'ecdsa-sha2-nistp384': ['curve:nistp384', 'Q'],
  'ecdsa-sha2-nistp521': ['curve:nistp521', 'Q'],
  'sk-ssh-ed25519@openssh.com': ['ed25519-key', 'application'],
  'sk-ecdsa-sha2-nistp256@openssh.com': ['curve:nistp256', 'Q', 'application'],
};

export const KEY_TYPES: readonly string[] = Object.keys(BLOB_FIELDS);

export interface PublicKey {
  type: string;
  /** The base64 field exactly as written. */
  base64: string;
  comment: string;
  blob: Buffer;
}

export type ParsedKey = { ok: true; key: PublicKey } | { ok: false; reason: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The length-prefixed strings of an SSH wire blob, or undefined when the blob is not one. */
function blobStrings(blob: Buffer): Buffer[] | undefined {
  const strings: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return undefined;
    strings.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return strings;
}

function blobProblem(type: string, blob: Buffer): string | undefined {
  const strings = blobStrings(blob);
  if (!strings || strings.length === 0) return 'the base64 does not decode to an SSH key (truncated?)';
  const embedded = strings[0]?.toString('latin1') ?? '';
  if (embedded !== type) return `the key says it is ${type} but its data is ${JSON.stringify(embedded)}`;
  const fields = BLOB_FIELDS[type] ?? [];
  if (strings.length !== fields.length + 1) return `the ${type} key data has ${strings.length - 1} fields, expected ${fields.length} (truncated?)`;
  for (const [i, field] of fields.entries()) {
    const value = strings[i + 1] as Buffer;
    if (field.startsWith('curve:') && value.toString('latin1') !== field.slice(6)) return `the ${type} key names curve ${JSON.stringify(value.toString('latin1'))}`;
    if (field === 'ed25519-key' && value.length !== 32) return `the ed25519 key is ${value.length} bytes, expected 32 (truncated?)`;
    if (value.length === 0) return `the ${type} key has an empty ${field}`;
  }
  return undefined;
}

export function parsePublicKey(line: string): ParsedKey {
  if (/[\r\n]/.test(line)) return { ok: false, reason: 'a key is one line' };
  const [type = '', base64, ...rest] = line.trim().split(/[ \t]+/);
  if (type === '') return { ok: false, reason: 'empty' };
  if (type.startsWith('-----BEGIN')) return { ok: false, reason: 'this is a private key: give the public one (the .pub file)' };
  if (!Object.hasOwn(BLOB_FIELDS, type)) {
    const hint = type === 'ssh-dss' ? ' (DSA keys are disabled in OpenSSH)' : /^[A-Za-z0-9+/]{20,}/.test(type) ? ' (the type, such as ssh-ed25519, must come first)' : '';
    return { ok: false, reason: `unsupported key type ${JSON.stringify(type.slice(0, 40))}${hint}` };
  }
  if (base64 === undefined) return { ok: false, reason: `no key data after ${type}` };
  if (!BASE64.test(base64) || base64.length % 4 !== 0) return { ok: false, reason: 'the key data is not valid base64' };
  const blob = Buffer.from(base64, 'base64');
  const problem = blobProblem(type, blob);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, key: { type, base64, comment: rest.join(' '), blob } };
}

/** OpenSSH's fingerprint of a key blob: `SHA256:` and unpadded base64, as `ssh-keygen -l` prints. */
export function fingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key as one normalized line: single spaces, comment kept. */
export function keyLine(key: PublicKey): string {
  return [key.type, key.base64, key.comment].filter((part) => part !== '').join(' ');
}
