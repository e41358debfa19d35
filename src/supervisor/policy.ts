/**
 * How one service is supervised: how often it is probed and how patiently (Kubernetes' probe
 * fields), and how restarts are paced and bounded. The controller may send a `supervision` block
 * with any of these (snake_case, like service definitions); the rest are the defaults below.
 * Pure: a schema, defaults and two small functions.
 */
import { z } from 'zod';

export interface Policy {
  /** Time between the start of one probe and the next. */
  intervalMs: number;
  /** How long one probe may take; the probe's own `timeout_ms` wins when its definition gives one. */
  timeoutMs: number;
  /** Consecutive `unhealthy` answers before a restart (and `misconfigured` ones before it is reported). */
  failureThreshold: number;
  /** Consecutive `healthy` answers before a (re)started service counts as healthy. */
  successThreshold: number;
  /** After a start or restart, the first probe waits this long. */
  initialDelayMs: number;
  /** The wait before the first restart; each further restart without recovery waits `backoffFactor` times longer, up to `backoffMaxMs`. */
  backoffInitialMs: number;
  backoffFactor: number;
  backoffMaxMs: number;
  /** At most `budgetRestarts` restarts in any `budgetWindowMs`: past that the service is `failed` and handed to failover. */
  budgetRestarts: number;
  budgetWindowMs: number;
  /** The authenticated status probe runs at most this often, while the service is healthy (status.ts). */
  statusIntervalMs: number;
}

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  intervalMs: 10_000,
  timeoutMs: 5_000,
  failureThreshold: 3,
  successThreshold: 1,
  initialDelayMs: 0,
  backoffInitialMs: 10_000,
  backoffFactor: 2,
  backoffMaxMs: 300_000,
  budgetRestarts: 5,
  budgetWindowMs: 30 * 60_000,
  statusIntervalMs: 60_000,
});

const ms = (max: number) => z.int().min(0).max(max);

/** The `supervision` block of a `set-services` entry; every field optional. */
export const supervisionSchema = z.object({
  interval_ms: ms(3_600_000).min(100).optional(),
  timeout_ms: ms(120_000).min(1).optional(),
  failure_threshold: z.int().min(1).max(100).optional(),
  success_threshold: z.int().min(1).max(100).optional(),
  initial_delay_ms: ms(3_600_000).optional(),
  backoff_initial_ms: ms(3_600_000).optional(),
  backoff_factor: z.number().min(1).max(10).optional(),
  backoff_max_ms: ms(86_400_000).optional(),
  restart_budget: z.object({
    restarts: z.int().min(0).max(1_000).describe('0: never restart; the first failure is final'),
    window_ms: ms(7 * 86_400_000).min(1),
  }).optional(),
  status_interval_ms: ms(86_400_000).min(100).optional(),
}).strict();
export type Supervision = z.infer<typeof supervisionSchema>;

export function policyFrom(supervision: Supervision = {}, probeTimeoutMs?: number): Policy {
  const p = DEFAULT_POLICY;
  const s = supervision;
  return {
    intervalMs: s.interval_ms ?? p.intervalMs,
    timeoutMs: probeTimeoutMs ?? s.timeout_ms ?? p.timeoutMs,
    failureThreshold: s.failure_threshold ?? p.failureThreshold,
    successThreshold: s.success_threshold ?? p.successThreshold,
    initialDelayMs: s.initial_delay_ms ?? p.initialDelayMs,
    backoffInitialMs: s.backoff_initial_ms ?? p.backoffInitialMs,
    backoffFactor: s.backoff_factor ?? p.backoffFactor,
    backoffMaxMs: s.backoff_max_ms ?? p.backoffMaxMs,
    budgetRestarts: s.restart_budget?.restarts ?? p.budgetRestarts,
    budgetWindowMs: s.restart_budget?.window_ms ?? p.budgetWindowMs,
    statusIntervalMs: s.status_interval_ms ?? p.statusIntervalMs,
  };
}

/** The wait before restart number `attempt + 1` since the service was last healthy. No jitter: one box, one service. */
export function restartDelay(policy: Policy, attempt: number): number {
  const raw = policy.backoffInitialMs * policy.backoffFactor ** Math.max(0, attempt);
  return Math.round(Math.min(policy.backoffMaxMs, raw));
}

/** The restart times still inside the budget window that ends at `now`. */
export function inWindow(policy: Policy, restarts: readonly number[], now: number): number[] {
  return restarts.filter((at) => at > now - policy.budgetWindowMs);
}
