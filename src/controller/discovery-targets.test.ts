import { describe, expect, it } from 'vitest';
import { rejectionReason, resolveAllPending, resolvePending, resolveRejected } from './discovery-targets.js';

const fp = (hex: string) => `sha256:${hex.padEnd(64, '0')}`;
const pending = [
  { name: 'attic', fingerprint: fp('3f2a91bc0d447e19'), approvable: true },
  { name: 'shed', fingerprint: fp('3f2b0000'), approvable: false },
  { name: 'twin', fingerprint: fp('aaaa1111'), approvable: true },
  { name: 'twin', fingerprint: fp('bbbb2222'), approvable: true },
];

describe('naming discovered boxes', () => {
  it('finds a box by name, or by a key prefix with or without sha256: and dashes', () => {
    expect(resolvePending('attic', pending, 'approve').name).toBe('attic');
    expect(resolvePending('3f2a-91bc', pending, 'approve').name).toBe('attic');
    expect(resolvePending('sha256:3F2A91', pending, 'reject').name).toBe('attic');
    expect(resolvePending('aaaa', pending, 'reject').fingerprint).toBe(fp('aaaa1111'));
  });

  it('refuses an unknown or ambiguous name with the code and what matched', () => {
    expect(() => resolvePending('nobody', pending, 'reject')).toThrow(expect.objectContaining({ code: 'E_DISCOVERED_NOT_FOUND', message: 'no pending box is named "nobody" or has a key fingerprint starting with it' }));
    expect(() => resolvePending('twin', pending, 'reject')).toThrow(expect.objectContaining({ code: 'E_DISCOVERED_AMBIGUOUS', message: '2 pending boxes match "twin": aaaa111100000000, bbbb222200000000', hint: 'reject one by its fingerprint' }));
    expect(() => resolvePending('3f2', pending, 'reject')).toThrow(expect.objectContaining({ code: 'E_DISCOVERED_NOT_FOUND' }));
  });

  it('approves only a box holding a connection, but rejects one only seen on the network', () => {
    expect(() => resolvePending('shed', pending, 'approve')).toThrow(expect.objectContaining({ code: 'E_NOT_APPROVABLE' }));
    expect(resolvePending('shed', pending, 'reject').name).toBe('shed');
  });

  it('resolves every target before returning, each box once', () => {
    expect(resolveAllPending(['attic', '3f2a', 'shed'], pending, 'reject').map((b) => b.name)).toEqual(['attic', 'shed']);
    expect(() => resolveAllPending(['attic', 'nobody'], pending, 'reject')).toThrow(/"nobody"/);
  });

  it('finds a rejected box by name or key, and says clearly when there is none', () => {
    const rejected = [{ name: 'attic', fingerprint: fp('3f2a91bc0d447e19') }, { name: 'den', fingerprint: fp('3f2a0000') }];
    expect(resolveRejected('den', rejected).fingerprint).toBe(fp('3f2a0000'));
    expect(resolveRejected(fp('3f2a91bc0d447e19'), rejected).name).toBe('attic');
    expect(resolveRejected('3f2a-91bc-0d44-7e19', rejected).name).toBe('attic');
    expect(() => resolveRejected('3f2a', rejected)).toThrow(expect.objectContaining({ code: 'E_DISCOVERED_AMBIGUOUS', hint: 'unreject one by its fingerprint' }));
    expect(() => resolveRejected('attic-pi', rejected)).toThrow(expect.objectContaining({ code: 'E_REJECTED_NOT_FOUND', message: 'no rejected box is named "attic-pi" or has a key fingerprint starting with it' }));
  });

  it('tells a rejected box its short key and how the admin undoes it', () => {
    expect(rejectionReason(fp('3f2a91bc0d447e19'))).toBe("the controller's admin rejected this box (key 3f2a-91bc-0d44-7e19); they can undo it with: cistern discover unreject 3f2a-91bc-0d44-7e19");
  });
});
