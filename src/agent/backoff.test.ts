import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

describe('backoffDelay', () => {
  it('stays within [min/2, min(max, min * factor^attempt)]', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      const delay = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
      expect(delay).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.minMs / 2);
      expect(delay).toBeLessThanOrEqual(Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.minMs * 2 ** attempt));
    }));
  });

  it('grows with the attempt and is capped', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 1)).toBe(500);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 1)).toBe(4_000);
    expect(backoffDelay(40, DEFAULT_BACKOFF, () => 1)).toBe(30_000);
  });

  it('spreads reconnects: different random draws give different delays', () => {
    const delays = new Set([0.1, 0.4, 0.7, 0.9].map((r) => backoffDelay(5, DEFAULT_BACKOFF, () => r)));
    expect(delays.size).toBe(4);
  });
});
