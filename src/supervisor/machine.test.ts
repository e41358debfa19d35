import { describe, expect, it } from 'vitest';
import type { Verdict } from '../services/schema.js';
import { initialState, report, step, wakeAt, type Action, type ServiceState, type SupervisorEvent } from './machine.js';
import { DEFAULT_POLICY, policyFrom, restartDelay, type Policy } from './policy.js';

/** Short timings: probe every second, restart after 1 s, 2 s, 4 s (cap 5 s), 3 restarts in a minute. */
const POLICY: Policy = {
  ...DEFAULT_POLICY, intervalMs: 1_000, timeoutMs: 500, failureThreshold: 2, successThreshold: 1, initialDelayMs: 0,
  backoffInitialMs: 1_000, backoffFactor: 2, backoffMaxMs: 5_000, budgetRestarts: 3, budgetWindowMs: 60_000,
};

/** One line per action: `probe`, `start`, `restart`, `stop`, or an event (`state stopped>starting`, `restart #1 after 1000`, ...). */
function brief(action: Action): string {
  if (action.type !== 'event') return action.type;
  const e = action.event;
  switch (e.kind) {
    case 'service-state': return `state ${e.from}>${e.to}`;
    case 'service-restart': return `restart #${e.attempt} after ${e.delayMs}`;
    case 'service-failed': return `failed after ${e.restarts}`;
    case 'service-started': return 'started';
    case 'service-stopped': return `stopped: ${e.reason}`;
    case 'service-action-failed': return `${e.action} failed: ${e.error}`;
  }
}

type Line = [number, SupervisorEvent | Verdict | 'ok' | 'tick' | 'run' | 'drop'];

/**
 * Feeds a script to the machine. Shorthands: a verdict answers the probe in flight, `ok` ends the
 * driver action in flight, `tick` is a tick, `run`/`drop` are desires. Returns every step's actions.
 */
function play(lines: readonly Line[], policy: Policy = POLICY, start: ServiceState = initialState(policy)): { state: ServiceState; log: string[][] } {
  let state = start;
  const log: string[][] = [];
  for (const [now, line] of lines) {
    let event: SupervisorEvent;
    if (typeof line === 'object') event = line;
    else if (line === 'tick') event = { type: 'tick' };
    else if (line === 'run' || line === 'drop') event = { type: 'desire', run: line === 'run' };
    else if (line === 'ok') {
      if (state.busy === null) throw new Error(`nothing in flight at ${now}`);
      event = { type: 'done', action: state.busy, ok: true };
    } else {
      if (state.probing === null) throw new Error(`no probe in flight at ${now}`);
      event = { type: 'probed', seq: state.probing, verdict: line, detail: `svc: ${line}` };
    }
    const next = step(state, event, now);
    log.push(next.actions.map(brief));
    state = next.state;
  }
  return { state, log };
}

/** Started at 0 and answered healthy once: the usual starting point. */
const RUNNING: Line[] = [[0, 'run'], [0, 'ok'], [0, 'healthy']];

describe('the supervision state machine', () => {
  it.each<[string, Line[], string[][], Partial<Policy>?]>([
    ['a wanted service is started, probed at once, and healthy after one good answer', RUNNING, [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'],
    ]],
    ['probes follow the interval and wait for the one in flight', [...RUNNING, [500, 'tick'], [1_000, 'tick'], [2_500, 'healthy']], [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'], [], ['probe'], ['probe'],
    ]],
    ['the first probe waits for the initial delay', [[0, 'run'], [0, 'ok'], [1_999, 'tick'], [2_000, 'tick']], [
      ['state stopped>starting', 'start'], ['started'], [], ['probe'],
    ], { initialDelayMs: 2_000 }],
    ['one failure below the threshold changes nothing; a success in between resets the count', [
      ...RUNNING, [1_000, 'tick'], [1_000, 'unhealthy'], [2_000, 'tick'], [2_000, 'healthy'], [3_000, 'tick'], [3_000, 'unhealthy'],
    ], [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'], ['probe'], [], ['probe'], [], ['probe'], [],
    ]],
    ['failureThreshold failures in a row make it unhealthy; the restart waits for the backoff', [
      ...RUNNING, [1_000, 'tick'], [1_000, 'unhealthy'], [2_000, 'tick'], [2_000, 'unhealthy'], [2_999, 'tick'], [3_000, 'tick'], [3_100, 'ok'], [3_100, 'healthy'],
    ], [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'],
      ['probe'], [], ['probe'], ['state healthy>unhealthy'], [], ['restart #1 after 1000', 'restart'], ['state unhealthy>starting', 'probe'], ['state starting>healthy'],
    ]],
    ['successThreshold good answers in a row make a restarted service healthy', [[0, 'run'], [0, 'ok'], [0, 'healthy'], [1_000, 'tick'], [1_000, 'healthy']], [
      ['state stopped>starting', 'start'], ['started', 'probe'], [], ['probe'], ['state starting>healthy'],
    ], { successThreshold: 2 }],
    ['misconfigured is reported after the threshold and never restarts', [
      ...RUNNING, [1_000, 'tick'], [1_000, 'misconfigured'], [2_000, 'tick'], [2_000, 'misconfigured'], [3_000, 'tick'], [3_000, 'misconfigured'], [60_000, 'tick'],
    ], [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'],
      ['probe'], [], ['probe'], ['state healthy>misconfigured'], ['probe'], [], ['probe'],
    ]],
    ['starting (Jellyfin "Degraded") is reported at once and never restarts, however long it lasts', [
      ...RUNNING, [1_000, 'tick'], [1_000, 'starting'], [2_000, 'tick'], [2_000, 'starting'], [3_000, 'tick'], [3_000, 'starting'], [4_000, 'tick'], [4_000, 'healthy'],
    ], [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'],
      ['probe'], ['state healthy>starting'], ['probe'], [], ['probe'], [], ['probe'], ['state starting>healthy'],
    ]],
    ['a service taken away is stopped; failure and budget are forgotten', [...RUNNING, [500, 'drop'], [600, 'ok'], [700, 'tick']], [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'], ['state healthy>stopped', 'stop'], ['stopped: not wanted on this box'], [],
    ]],
    ['a service of unknown state that is not wanted is stopped once, quietly', [[0, 'drop'], [0, 'ok'], [1_000, 'tick']], [['stop'], [], []]],
    ['the lease: not started while not held, stopped when lost, started when held again', [
      [0, { type: 'lease', allowed: false }], [0, 'ok'], [0, 'run'], [1_000, 'tick'], [2_000, { type: 'lease', allowed: true }], [2_000, 'ok'], [2_000, 'healthy'],
      [3_000, { type: 'lease', allowed: false }], [3_000, 'ok'],
    ], [
      ['stop'], [], [], [], ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'], ['state healthy>stopped', 'stop'], ['stopped: lease not held'],
    ]],
    ['a late answer to a probe of the process before a restart is ignored', [
      ...RUNNING, [1_000, 'tick'], [1_000, 'unhealthy'], [2_000, 'tick'], [2_000, 'unhealthy'], [3_000, 'tick'],
      [3_000, { type: 'probed', seq: 3, verdict: 'unhealthy', detail: 'late' }], [3_100, 'ok'],
    ], [
      ['state stopped>starting', 'start'], ['started', 'probe'], ['state starting>healthy'], ['probe'], [], ['probe'], ['state healthy>unhealthy'],
      ['restart #1 after 1000', 'restart'], [], ['state unhealthy>starting', 'probe'],
    ]],
    ['a start the driver could not make is probed like any other: the probes decide', [[0, 'run'], [0, { type: 'done', action: 'start', ok: false, error: 'no such unit' }]], [
      ['state stopped>starting', 'start'], ['start failed: no such unit', 'probe'],
    ]],
    ['a failed stop is tried again after a backoff', [[0, 'drop'], [0, { type: 'done', action: 'stop', ok: false, error: 'timeout' }], [500, 'tick'], [1_000, 'tick']], [
      ['stop'], ['stop failed: timeout'], [], ['stop'],
    ]],
  ])('%s', (_name, lines, expected, policy) => {
    expect(play(lines, { ...POLICY, ...policy }).log).toEqual(expected);
  });

  it('backs off exponentially up to the cap, and resets once the service is healthy again', () => {
    const policy = { ...POLICY, budgetRestarts: 10 };
    const delays: number[] = [];
    let t = 0;
    let state = play(RUNNING, policy).state;
    const feed = (event: SupervisorEvent | 'tick') => {
      const next = step(state, event === 'tick' ? { type: 'tick' } : event, t);
      for (const a of next.actions) if (a.type === 'event' && a.event.kind === 'service-restart') delays.push(a.event.delayMs);
      state = next.state;
    };
    const failTwice = () => {
      for (let i = 0; i < 2; i++) {
        t = wakeAt(state) ?? t;
        feed('tick');
        feed({ type: 'probed', seq: state.probing ?? -1, verdict: 'unhealthy', detail: 'down' });
      }
      t = wakeAt(state) ?? t; // the backoff
      feed('tick');
      feed({ type: 'done', action: 'restart', ok: true });
    };
    for (let i = 0; i < 5; i++) failTwice();
    expect(delays).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    feed({ type: 'probed', seq: state.probing ?? -1, verdict: 'healthy', detail: 'up' });
    expect(state.attempt).toBe(0);
    failTwice();
    expect(delays.at(-1)).toBe(1_000);
  });

  it('with the budget spent the service is failed, stopped, and never started again until taken away and given back', () => {
    const lines: Line[] = [...RUNNING];
    let t = 0;
    for (let restart = 0; restart < 4; restart++) {
      lines.push([++t * 1000, 'tick'], [t * 1000, 'unhealthy'], [++t * 1000, 'tick'], [t * 1000, 'unhealthy']);
      if (restart < 3) lines.push([(t += 10) * 1000, 'tick'], [t * 1000, 'ok']);
    }
    const { state, log } = play(lines);
    const flat = log.flat();
    expect(flat.filter((a) => a === 'restart')).toHaveLength(3);
    expect(flat.filter((a) => a.startsWith('restart #'))).toEqual(['restart #1 after 1000', 'restart #2 after 2000', 'restart #3 after 4000']);
    expect(log.at(-1)).toEqual(['failed after 3', 'state starting>failed', 'stop']);
    expect(report(state)).toMatchObject({ state: 'failed' });
    expect(report(state).detail).toMatch(/^restart budget spent \(3 in 60 s\): svc: unhealthy$/);

    const after = play([[t * 1000 + 1, 'ok'], [t * 1000 + 60_000, 'tick'], [t * 1000 + 120_000, 'run'], [t * 1000 + 180_000, 'tick']], POLICY, state);
    expect(after.log).toEqual([['stopped: failed: restart budget spent'], [], [], []]);
    expect(wakeAt(after.state)).toBeNull();

    const again = play([[t * 1000 + 200_000, 'drop'], [t * 1000 + 200_001, 'run']], POLICY, after.state);
    expect(again.log).toEqual([['state failed>stopped'], ['state stopped>starting', 'start']]);
    expect(again.state.restarts).toEqual([]);
  });

  it('counts only the restarts inside the window: old ones leave the budget', () => {
    const policy = { ...POLICY, budgetRestarts: 1, budgetWindowMs: 10_000 };
    const cycle = (from: number): Line[] => [[from, 'tick'], [from, 'unhealthy'], [from + 1_000, 'tick'], [from + 1_000, 'unhealthy']];
    const first = play([...RUNNING, ...cycle(1_000), [3_000, 'tick'], [3_000, 'ok'], [3_000, 'healthy'], ...cycle(20_000), [21_000 + 1_000, 'tick']], policy);
    expect(first.log.flat().filter((a) => a === 'restart')).toHaveLength(2);
    const tooSoon = play([...RUNNING, ...cycle(1_000), [3_000, 'tick'], [3_000, 'ok'], [3_000, 'healthy'], ...cycle(5_000)], policy);
    expect(tooSoon.log.at(-1)).toEqual(['failed after 1', 'state healthy>failed', 'stop']);
  });

  it('checks the budget again when the restart is due: a stricter policy sent meanwhile fails the service instead', () => {
    const waiting = play([...RUNNING, [1_000, 'tick'], [1_000, 'unhealthy'], [2_000, 'tick'], [2_000, 'unhealthy']], { ...POLICY, budgetRestarts: 3 });
    expect(waiting.state.restartAt).toBe(3_000);
    const { log } = play([[2_500, { type: 'desire', run: true, policy: { ...POLICY, budgetRestarts: 0 } }], [3_000, 'tick']], POLICY, waiting.state);
    expect(log).toEqual([[], ['failed after 0', 'state unhealthy>failed', 'stop']]);
  });

  it('a budget of 0 restarts fails at the first unhealthy verdict', () => {
    const { log } = play([...RUNNING, [1_000, 'tick'], [1_000, 'unhealthy'], [2_000, 'tick'], [2_000, 'unhealthy']], { ...POLICY, budgetRestarts: 0 });
    expect(log.at(-1)).toEqual(['failed after 0', 'state healthy>failed', 'stop']);
  });

  it('reports the count toward a threshold, and the coming restart', () => {
    const { state } = play([...RUNNING, [1_000, 'tick'], [1_000, 'unhealthy']], { ...POLICY, failureThreshold: 3 });
    expect(report(state)).toEqual({ state: 'healthy', detail: 'svc: unhealthy (1 of 3)' });
    const pending = play([[2_000, 'tick'], [2_000, 'unhealthy'], [3_000, 'tick'], [3_000, 'unhealthy']], { ...POLICY, failureThreshold: 3 }, state).state;
    expect(report(pending)).toEqual({ state: 'unhealthy', detail: 'svc: unhealthy; restart in 1 s' });
    expect(wakeAt(pending)).toBe(4_000);
  });

  it('never changes the state it is given', () => {
    const state = Object.freeze(play(RUNNING).state);
    const copy = structuredClone(state);
    step(state, { type: 'desire', run: false }, 5_000);
    expect(state).toEqual(copy);
  });
});

describe('the supervision policy', () => {
  it('fills what the supervision block does not say with the defaults; the probe\'s own timeout wins', () => {
    expect(policyFrom()).toEqual(DEFAULT_POLICY);
    expect(policyFrom({ interval_ms: 500, restart_budget: { restarts: 3, window_ms: 60_000 } }, 2_000)).toMatchObject({
      intervalMs: 500, timeoutMs: 2_000, budgetRestarts: 3, budgetWindowMs: 60_000, failureThreshold: 3,
    });
    expect(policyFrom({ timeout_ms: 300 }).timeoutMs).toBe(300);
  });

  it('doubles the backoff from its initial value up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 10, 100].map((a) => restartDelay(DEFAULT_POLICY, a))).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });
});
