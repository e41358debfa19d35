/**
 * When the authenticated status probe runs, as a pure decision. It is the richer, slower check
 * (it may make the app ask its own dependencies, like Bazarr asking Sonarr and Radarr), so it runs
 * every `statusIntervalMs`, and only while the cheap probe says the service is healthy: a service
 * that is starting or broken is the cheap probe's business. Its verdict is reported, never acted
 * on: nothing is restarted for it.
 */
import type { Verdict } from '../services/schema.js';
import type { ReportedState } from './machine.js';

/** What the status probe last said about a service, as heartbeats carry it. */
export interface StatusReport {
  verdict: Verdict;
  /** One line for people; never a key. */
  detail: string;
  /** When it answered, ms since the epoch (the agent's clock). */
  checkedAt: number;
  version?: string;
}

export interface StatusTiming {
  /** The service's state after its last cheap probe. */
  state: ReportedState;
  /** When the status probe was last tried (monotonic ms), null if never since the service (re)started. */
  lastAt: number | null;
  intervalMs: number;
  /** One is in flight. */
  running: boolean;
  now: number;
}

export function statusDue(t: StatusTiming): boolean {
  if (t.running || t.state !== 'healthy') return false;
  return t.lastAt === null || t.now - t.lastAt >= t.intervalMs;
}

/** A change of verdict worth an event: the first report, or a different verdict. */
export function statusChanged(before: StatusReport | undefined, after: StatusReport): boolean {
  return before?.verdict !== after.verdict;
}
