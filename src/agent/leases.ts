/**
 * The leases this agent holds on single-writer services, renewed by every heartbeat
 * acknowledgement. A lease lasts `ttl` from the acknowledgement's arrival, measured on this box's
 * monotonic clock: an agent cut off from the controller stops its single-writer services when
 * the last lease runs out, before the controller (which waits the TTL plus a grace period)
 * promotes a replica elsewhere. Two boxes never run the same single-writer service at once.
 */
export class LeaseBook {
  private held = new Map<string, number>();
  private validUntil = 0;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** Records an acknowledgement's leases; true when what may run changed. */
  renew(leases: Readonly<Record<string, number>>, ttlMs: number): boolean {
    const before = this.runnable();
    this.held = new Map(Object.entries(leases));
    this.validUntil = this.clock() + ttlMs;
    const after = this.runnable();
    return before.length !== after.length || before.some((s, i) => s !== after[i]);
  }

  /** Whether this agent may run `service` now. */
  holds(service: string): boolean {
    return this.held.has(service) && this.clock() < this.validUntil;
  }

  epoch(service: string): number {
    return this.holds(service) ? (this.held.get(service) ?? 0) : 0;
  }

  /** Milliseconds until the leases run out (0 when they have). */
  remainingMs(): number {
    return Math.max(0, this.validUntil - this.clock());
  }

  private runnable(): string[] {
    return [...this.held.keys()].filter((s) => this.holds(s)).sort();
  }
}
