/** Helpers for the supervision tests. */
import type { DriverKind, DriverStatus, ServiceDriver } from './driver.js';

/** A driver that does what it is told and remembers it; `crash()` makes the service die. */
export class FakeDriver implements ServiceDriver {
  running = false;
  readonly calls: string[] = [];
  constructor(readonly kind: DriverKind = 'systemd') {}
  async start() { this.calls.push('start'); this.running = true; }
  async stop() { this.calls.push('stop'); this.running = false; }
  async restart() { this.calls.push('restart'); this.running = true; }
  async status(): Promise<DriverStatus> { return this.running ? { running: true, uptimeSeconds: 1_000, detail: 'pid 42' } : { running: false, detail: 'exited with code 1' }; }
  crash() { this.running = false; }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it gives a value (not undefined or false), for at most `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
