import { describe, expect, it } from 'vitest';
import { LeaseBook } from './leases.js';

describe('the agent\'s leases', () => {
  it('hold a service until the TTL after the last acknowledgement, and say when that changed', () => {
    let now = 1_000;
    const book = new LeaseBook(() => now);
    expect(book.holds('sonarr')).toBe(false);
    expect(book.renew({ sonarr: 3 }, 3_000)).toBe(true);
    expect([book.holds('sonarr'), book.epoch('sonarr'), book.holds('radarr')]).toEqual([true, 3, false]);
    now = 3_500;
    expect(book.renew({ sonarr: 3 }, 3_000)).toBe(false);
    now = 6_499;
    expect(book.holds('sonarr')).toBe(true);
    now = 6_500;
    expect([book.holds('sonarr'), book.epoch('sonarr'), book.remainingMs()]).toEqual([false, 0, 0]);
  });

  it('drop a lease the controller no longer lists (the service failed over elsewhere)', () => {
    const now = 0;
    const book = new LeaseBook(() => now);
    book.renew({ sonarr: 3, radarr: 1 }, 3_000);
    expect(book.renew({ radarr: 1 }, 3_000)).toBe(true);
    expect([book.holds('sonarr'), book.holds('radarr')]).toEqual([false, true]);
  });
});
