/** Helpers for the supervision tests. */
import { readFileSync } from 'node:fs';
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

/** The state letter of /proc/PID/stat (R, S, T, Z, …), or undefined for no such process. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
