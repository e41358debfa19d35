/**
 * Reconnect delays: exponential with full jitter (AWS's "full jitter"), so a fleet whose
 * controller restarts does not reconnect in lockstep. Pure: the random source is passed in.
 */
export interface BackoffOptions { minMs: number; maxMs: number; factor: number }

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 30_000, factor: 2 };

export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.minMs * options.factor ** Math.max(0, attempt));
  return Math.round(options.minMs / 2 + random() * (ceiling - options.minMs / 2));
}
