import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../services/schema.js';
import { initialState, step, wakeAt, type Action, type ServiceState, type SupervisorEvent } from './machine.js';
import { DEFAULT_POLICY, type Policy } from './policy.js';

/** What the world does next: time passes, the probe in flight answers, the driver finishes, the controller or lease changes. */
type Move =
  | { t: 'wait'; ms: number }
  | { t: 'wake' }
  | { t: 'answer'; verdict: Verdict }
  | { t: 'stale'; verdict: Verdict }
  | { t: 'finish'; ok: boolean }
  | { t: 'desire'; run: boolean }
  | { t: 'lease'; allowed: boolean };

const VERDICTS: Verdict[] = ['healthy', 'starting', 'unhealthy', 'misconfigured'];

const policyArb: fc.Arbitrary<Policy> = fc.record({
  intervalMs: fc.integer({ min: 100, max: 5_000 }),
  failureThreshold: fc.integer({ min: 1, max: 4 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
  initialDelayMs: fc.integer({ min: 0, max: 3_000 }),
  backoffInitialMs: fc.integer({ min: 0, max: 5_000 }),
  backoffFactor: fc.constantFrom(1, 1.5, 2, 3),
  backoffMaxMs: fc.integer({ min: 0, max: 20_000 }),
  budgetRestarts: fc.integer({ min: 0, max: 5 }),
  budgetWindowMs: fc.integer({ min: 1_000, max: 120_000 }),
}).map((p) => ({ ...DEFAULT_POLICY, ...p }));

const moveArb = (verdicts: readonly Verdict[], desires: readonly boolean[]): fc.Arbitrary<Move> => fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 30_000 }).map((ms): Move => ({ t: 'wait', ms })) },
  { weight: 4, arbitrary: fc.constant<Move>({ t: 'wake' }) },
  { weight: 6, arbitrary: fc.constantFrom(...verdicts).map((verdict): Move => ({ t: 'answer', verdict })) },
  { weight: 1, arbitrary: fc.constantFrom(...verdicts).map((verdict): Move => ({ t: 'stale', verdict })) },
  { weight: 4, arbitrary: fc.boolean().map((ok): Move => ({ t: 'finish', ok })) },
  { weight: 1, arbitrary: fc.constantFrom(...desires).map((run): Move => ({ t: 'desire', run })) },
  { weight: 1, arbitrary: fc.boolean().map((allowed): Move => ({ t: 'lease', allowed })) },
);

/**
 * A world where the service keeps failing: it mostly answers unhealthy, time jumps to whenever
 * the machine wants to act, and drivers finish, so restarts come as fast as the policy lets them.
 */
const crashLoopArb: fc.Arbitrary<Move> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Move>({ t: 'wake' }) },
  { weight: 6, arbitrary: fc.constant<Move>({ t: 'answer', verdict: 'unhealthy' }) },
  { weight: 4, arbitrary: fc.constant<Move>({ t: 'finish', ok: true }) },
  { weight: 1, arbitrary: fc.constantFrom<Verdict>('healthy', 'starting', 'misconfigured').map((verdict): Move => ({ t: 'answer', verdict })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5_000 }).map((ms): Move => ({ t: 'wait', ms })) },
  { weight: 1, arbitrary: fc.constant<Move>({ t: 'finish', ok: false }) },
);

interface Trace { at: number; before: ServiceState; event: SupervisorEvent; actions: Action[]; after: ServiceState }

/** Plays the moves against the machine, starting with the service wanted at time 0. */
function simulate(policy: Policy, moves: readonly Move[]): Trace[] {
  let state = initialState(policy);
  let now = 0;
  const trace: Trace[] = [];
  const feed = (event: SupervisorEvent) => {
    const before = state;
    const next = step(state, event, now);
    trace.push({ at: now, before, event, actions: next.actions, after: next.state });
    state = next.state;
  };
  feed({ type: 'desire', run: true });
  for (const move of moves) {
    switch (move.t) {
      case 'wait': now += move.ms; feed({ type: 'tick' }); break;
      case 'wake': now = Math.max(now, wakeAt(state) ?? now); feed({ type: 'tick' }); break;
      case 'answer': if (state.probing !== null) feed({ type: 'probed', seq: state.probing, verdict: move.verdict, detail: move.verdict }); break;
      case 'stale': feed({ type: 'probed', seq: state.probeSeq - 1, verdict: move.verdict, detail: 'stale' }); break;
      case 'finish': if (state.busy !== null) feed({ type: 'done', action: state.busy, ok: move.ok }); break;
      case 'desire': feed({ type: 'desire', run: move.run }); break;
      case 'lease': feed({ type: 'lease', allowed: move.allowed }); break;
    }
  }
  return trace;
}

const restartTimes = (trace: Trace[]) => trace.filter((t) => t.actions.some((a) => a.type === 'restart')).map((t) => t.at);
const driverActions = (actions: Action[]) => actions.filter((a) => a.type === 'start' || a.type === 'stop' || a.type === 'restart');

const RUNS = { numRuns: 300 };
/** Long runs: fast-check's default size would keep arrays to about ten moves, too few to spend a budget. */
const LONG = { maxLength: 300, size: 'max' } as const;

describe('the supervision state machine, for any policy and any sequence of events', () => {
  it('never restarts more than budgetRestarts times in any window of budgetWindowMs', () => {
    const moves = fc.oneof(fc.array(moveArb(VERDICTS, [true]), LONG), fc.array(fc.oneof(crashLoopArb, moveArb(VERDICTS, [true])), LONG));
    fc.assert(fc.property(policyArb, moves, (policy, moves) => {
      const times = restartTimes(simulate(policy, moves));
      for (let i = 0; i + policy.budgetRestarts < times.length; i++) {
        expect((times[i + policy.budgetRestarts] as number) - (times[i] as number)).toBeGreaterThanOrEqual(policy.budgetWindowMs);
      }
    }), RUNS);
  });

  it('keeps failing services down: after "failed", no start or restart until the service is taken away', () => {
    fc.assert(fc.property(policyArb, fc.array(fc.oneof(crashLoopArb, moveArb(VERDICTS, [true, true, true, false])), LONG), (policy, moves) => {
      for (const t of simulate(policy, moves)) {
        if (t.before.failed === null || t.after.failed === null) continue;
        expect(driverActions(t.actions).map((a) => a.type)).not.toContain('start');
        expect(driverActions(t.actions).map((a) => a.type)).not.toContain('restart');
      }
    }), RUNS);
  });

  it('never restarts or fails a service whose probes only say healthy, starting or misconfigured', () => {
    fc.assert(fc.property(policyArb, fc.array(moveArb(['healthy', 'starting', 'misconfigured'], [true, false]), LONG), (policy, moves) => {
      for (const t of simulate(policy, moves)) {
        expect(t.actions.filter((a) => a.type === 'restart' || (a.type === 'event' && a.event.kind === 'service-failed'))).toEqual([]);
      }
    }), RUNS);
  });

  it('asks for one thing at a time, and starts only what is wanted, allowed and not failed', () => {
    fc.assert(fc.property(policyArb, fc.array(fc.oneof(crashLoopArb, moveArb(VERDICTS, [true, true, false])), LONG), (policy, moves) => {
      for (const t of simulate(policy, moves)) {
        const driver = driverActions(t.actions);
        const probes = t.actions.filter((a) => a.type === 'probe');
        expect(driver.length + probes.length).toBeLessThanOrEqual(1);
        // A new driver action only when none is in flight, or in the step that ends the one in flight.
        if (driver.length > 0 && t.before.busy !== null) expect(t.event).toMatchObject({ type: 'done', action: t.before.busy });
        if (probes.length > 0) expect(t.after.busy).toBeNull();
        for (const a of driver) {
          if (a.type === 'stop') continue;
          expect(t.after).toMatchObject({ desired: true, allowed: true, failed: null });
        }
        // Not wanted: within the step the service is on its way down, or already down.
        if (!(t.after.desired && t.after.allowed && t.after.failed === null) && t.after.busy === null) {
          expect(t.after.up === false || t.after.retryAt !== null).toBe(true);
        }
      }
    }), RUNS);
  });

  it('is deterministic and never changes the states it is given', () => {
    fc.assert(fc.property(policyArb, fc.array(moveArb(VERDICTS, [true, true, false]), { maxLength: 100, size: 'max' }), (policy, moves) => {
      const first = simulate(policy, moves);
      expect(simulate(policy, moves)).toEqual(first);
      for (const t of first) {
        const frozen = structuredClone(t.before);
        expect(step(frozen, t.event, t.at)).toEqual({ state: t.after, actions: t.actions });
        expect(frozen).toEqual(t.before);
      }
    }), { numRuns: 100 });
  });

  it('always has somewhere to go: a wanted, running service with nothing in flight has a time to wake up', () => {
    fc.assert(fc.property(policyArb, fc.array(moveArb(VERDICTS, [true]), LONG), (policy, moves) => {
      for (const t of simulate(policy, moves)) {
        const s = t.after;
        const idle = s.busy === null && s.probing === null;
        if (idle && s.up === true && s.desired && s.allowed && s.failed === null) expect(wakeAt(s)).not.toBeNull();
        if (wakeAt(s) !== null) expect(wakeAt(s)).toBeGreaterThanOrEqual(0);
      }
    }), RUNS);
  });
});
