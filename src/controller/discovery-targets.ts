/**
 * Which boxes an admin means by the names on `cistern discover approve|reject|unreject`: a name,
 * or the first 4+ hex digits of a key fingerprint (with or without `sha256:` and the dashes
 * `cistern discover` prints). Pure: the caller passes the boxes, and an unknown or ambiguous
 * target throws before anything is changed.
 */
import { CisternError } from '../errors.js';
import { shortFingerprint } from '../discovery/records.js';

interface Named { name: string; fingerprint: string }

/** A pending box; `approvable` demands one holding a connection (approval sends the credential over it). */
export function resolvePending<B extends Named & { approvable: boolean }>(target: string, pending: readonly B[], verb: 'approve' | 'reject'): B {
  const box = pick(target, pending, { noun: 'pending boxes', verb, notFound: () => new CisternError('E_DISCOVERED_NOT_FOUND', `no pending box is named "${target}" or has a key fingerprint starting with it`, { hint: 'cistern discover lists the boxes waiting now' }) });
  if (verb === 'approve' && !box.approvable) {
    throw new CisternError('E_NOT_APPROVABLE', `"${box.name}" is seen on the network but holds no connection to receive a credential over`, {
      hint: 'start its agent with --discoverable, or give it a join token or a provisioning key',
    });
  }
  return box;
}

/** Every target resolved (throwing at the first bad one), each box once, in the order named. */
export function resolveAllPending<B extends Named & { approvable: boolean }>(targets: readonly string[], pending: readonly B[], verb: 'approve' | 'reject'): B[] {
  const chosen = new Map<string, B>();
  for (const target of targets) {
    const box = resolvePending(target, pending, verb);
    chosen.set(box.fingerprint, box);
  }
  return [...chosen.values()];
}

export function resolveRejected<B extends Named>(target: string, rejected: readonly B[]): B {
  return pick(target, rejected, {
    noun: 'rejected boxes', verb: 'unreject',
    notFound: () => new CisternError('E_REJECTED_NOT_FOUND', `no rejected box is named "${target}" or has a key fingerprint starting with it`, { hint: 'cistern discover rejected lists them' }),
  });
}

function pick<B extends Named>(target: string, boxes: readonly B[], how: { noun: string; verb: string; notFound: () => CisternError }): B {
  const hex = target.toLowerCase().replace(/^sha256:/, '').replaceAll('-', '');
  const byName = boxes.filter((b) => b.name === target);
  const byKey = /^[0-9a-f]{4,64}$/.test(hex) ? boxes.filter((b) => b.fingerprint.slice(7).startsWith(hex)) : [];
  const matches = byName.length > 0 ? byName : byKey;
  if (matches.length === 0) throw how.notFound();
  if (matches.length > 1) {
    throw new CisternError('E_DISCOVERED_AMBIGUOUS', `${matches.length} ${how.noun} match "${target}": ${matches.map((b) => b.fingerprint.slice(7, 23)).join(', ')}`, { hint: `${how.verb} one by its fingerprint` });
  }
  return matches[0] as B;
}

/** What a rejected box is told, and prints before it exits. */
export function rejectionReason(fingerprint: string): string {
  return `the controller's admin rejected this box (key ${shortFingerprint(fingerprint)}); they can undo it with: cistern discover unreject ${shortFingerprint(fingerprint)}`;
}
