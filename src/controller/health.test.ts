import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HEALTH_CONFIG, healthConfig, inventoryHealth, nextDeadline, onHeartbeat, onTick, startTracking, suspectAfterMs,
  type HealthConfig, type HealthState, type HealthStep, type HealthTransition, type ServerHealth,
} from './health.js';

type Op = readonly ['hb' | 'tick', number];
interface Traced { op: Op; before: ServerHealth; step: HealthStep }

const config = DEFAULT_HEALTH_CONFIG;

function run(ops: readonly Op[], cfg: HealthConfig = config, start: ServerHealth = startTracking(0)): Traced[] {
  const trace: Traced[] = [];
  let health = start;
  for (const op of ops) {
    const step = op[0] === 'hb' ? onHeartbeat(health, op[1], cfg) : onTick(health, op[1], cfg);
    trace.push({ op, before: health, step });
    health = step.health;
  }
  return trace;
}

const last = (trace: Traced[]): HealthStep => {
  const step = trace.at(-1)?.step;
  if (!step) throw new Error('empty trace');
  return step;
};
const allTransitions = (trace: Traced[]): HealthTransition[] => trace.flatMap((t) => t.step.transitions);
const brief = (t: HealthTransition): string => `${t.from}>${t.to}@${t.at}`;

describe('health sequences', () => {
  // Each row: ops, then the state after each op and the transitions (from>to@at) each op returned.
  it.each<[string, Op[], HealthState[], string[][]]>([
    ['first heartbeat makes an unknown server healthy',
      [['hb', 1_000]], ['healthy'], [['unknown>healthy@1000']]],
    ['healthy until the suspect threshold, 2.5 intervals (12.5 s)',
      [['hb', 0], ['tick', 12_499], ['tick', 12_500], ['tick', 14_999], ['tick', 15_000], ['tick', 299_999], ['tick', 300_000], ['tick', 900_000]],
      ['healthy', 'healthy', 'suspect', 'suspect', 'unreachable', 'unreachable', 'down', 'down'],
      [['unknown>healthy@0'], [], ['healthy>suspect@12500'], [], ['suspect>unreachable@15000'], [], ['unreachable>down@300000'], []]],
    ['a late tick emits every crossed threshold, stamped when it was crossed',
      [['hb', 0], ['tick', 400_000]], ['healthy', 'down'],
      [['unknown>healthy@0'], ['healthy>suspect@12500', 'suspect>unreachable@15000', 'unreachable>down@300000']]],
    ['a heartbeat after silence catches up before recovering',
      [['hb', 0], ['hb', 20_000]], ['healthy', 'healthy'],
      [['unknown>healthy@0'], ['healthy>suspect@12500', 'suspect>unreachable@15000', 'unreachable>healthy@20000']]],
    ['a heartbeat exactly at the suspect threshold is a miss',
      [['hb', 0], ['hb', 12_500]], ['healthy', 'healthy'],
      [['unknown>healthy@0'], ['healthy>suspect@12500', 'suspect>healthy@12500']]],
    ['a heartbeat just before it is not',
      [['hb', 0], ['hb', 12_499]], ['healthy', 'healthy'], [['unknown>healthy@0'], []]],
    ['every state recovers on a heartbeat',
      [['hb', 0], ['tick', 13_000], ['hb', 14_000], ['tick', 30_000], ['hb', 31_000]],
      ['healthy', 'suspect', 'healthy', 'unreachable', 'healthy'],
      [['unknown>healthy@0'], ['healthy>suspect@12500'], ['suspect>healthy@14000'],
        ['healthy>suspect@26500', 'suspect>unreachable@29000'], ['unreachable>healthy@31000']]],
    ['down recovers too',
      [['hb', 0], ['tick', 400_000], ['hb', 401_000]], ['healthy', 'down', 'healthy'],
      [['unknown>healthy@0'], ['healthy>suspect@12500', 'suspect>unreachable@15000', 'unreachable>down@300000'], ['down>healthy@401000']]],
    ['unknown is never suspect: unreachable after ttl plus the reconnect grace, down after downAfterMs',
      [['tick', 13_000], ['tick', 44_999], ['tick', 45_000], ['tick', 300_000]],
      ['unknown', 'unknown', 'unreachable', 'down'],
      [[], [], ['unknown>unreachable@45000'], ['unreachable>down@300000']]],
    ['an agent that reconnects within the grace goes from unknown straight to healthy',
      [['tick', 16_000], ['tick', 44_000], ['hb', 44_500], ['tick', 56_999], ['tick', 57_000]],
      ['unknown', 'unknown', 'healthy', 'healthy', 'suspect'],
      [[], [], ['unknown>healthy@44500'], [], ['healthy>suspect@57000']]],
  ])('%s', (_name, ops, states, transitions) => {
    const trace = run(ops);
    expect(trace.map((t) => t.step.health.state)).toEqual(states);
    expect(trace.map((t) => t.step.transitions.map(brief))).toEqual(transitions);
  });

  it('explains each transition', () => {
    const reasons = allTransitions(run([['hb', 0], ['tick', 400_000], ['hb', 400_001]])).map((t) => t.reason);
    expect(reasons).toEqual([
      'heartbeat received',
      'no heartbeat for 12.5 s (2 missed at 5 s interval)',
      'no heartbeat for 15.0 s (ttl 15 s)',
      'no heartbeat for 300.0 s (down after 300 s)',
      'heartbeat received',
    ]);
    expect(allTransitions(run([['tick', 46_000]]))[0]?.reason).toBe('no heartbeat for 45.0 s since tracking started (ttl 15 s + 30 s to reconnect)');
    const noGrace = healthConfig({ reconnectGraceMs: 0 });
    expect(allTransitions(run([['tick', 16_000]], noGrace))[0]?.reason).toBe('no heartbeat for 15.0 s since tracking started (ttl 15 s)');
  });

  it('keeps since and lastHeartbeatAt', () => {
    const { health } = last(run([['hb', 0], ['hb', 5_000], ['tick', 20_000]]));
    expect(health).toMatchObject({ state: 'unreachable', lastHeartbeatAt: 5_000, since: 20_000, trackedSince: 0 });
  });

  it('treats a heartbeat from the past as arriving at the latest time seen', () => {
    const { health } = last(run([['hb', 10_000], ['hb', 9_000]]));
    expect(health.lastHeartbeatAt).toBe(10_000);
  });

  it('maps states to the inventory health field', () => {
    expect((['unknown', 'healthy', 'suspect', 'unreachable', 'down'] as const).map(inventoryHealth))
      .toEqual(['unknown', 'healthy', 'degraded', 'unreachable', 'down']);
  });
});

describe('controller restart', () => {
  const now = 1_700_000_000_000;

  it('starts unknown and ignores the stored lastSeenAt for decisions, keeping it for display', () => {
    const restored = startTracking(now, now - 10_000);
    expect(restored).toEqual({
      state: 'unknown', lastHeartbeatAt: now - 10_000, trackedSince: now, since: now, recentTransitions: [], recoveryStreak: 0, flapping: false,
    });
    // Trusting lastSeenAt would make it unreachable 5 s after the restart. Its agent may still be
    // waiting out a reconnect backoff of up to 30 s: ttl plus that grace.
    expect(onTick(restored, now + 44_999, config).health.state).toBe('unknown');
    expect(nextDeadline(restored, config)).toBe(now + 45_000);
    expect(onTick(restored, now + 45_000, config).transitions.map(brief)).toEqual([`unknown>unreachable@${now + 45_000}`]);
  });

  it('does not declare a server down because it was last seen long ago', () => {
    const restored = startTracking(now, now - 3_600_000);
    expect(onTick(restored, now + 1, config).health.state).toBe('unknown');
    expect(onTick(restored, now + 300_000, config).health.state).toBe('down');
  });

  it('re-derives health from the first fresh heartbeat', () => {
    const step = onHeartbeat(startTracking(now, now - 3_600_000), now + 2_000, config);
    expect(step.health).toMatchObject({ state: 'healthy', lastHeartbeatAt: now + 2_000, since: now + 2_000 });
    expect(step.transitions.map(brief)).toEqual([`unknown>healthy@${now + 2_000}`]);
  });

  it('clamps a lastSeenAt from the future and accepts none', () => {
    expect(startTracking(now, now + 60_000).lastHeartbeatAt).toBe(now - 1);
    expect(startTracking(now, now).lastHeartbeatAt).toBe(now - 1);
    expect(startTracking(now).lastHeartbeatAt).toBeNull();
    expect(startTracking(now, null).lastHeartbeatAt).toBeNull();
  });
});

describe('flap damping', () => {
  // Heartbeats 13 s apart (past the 12.5 s suspect threshold): each gap is healthy > suspect > healthy.
  const blips: Op[] = [['hb', 0], ['hb', 13_000], ['hb', 26_000]];

  it('holds a flapping server until 3 in-time heartbeats have arrived', () => {
    const trace = run([...blips, ['hb', 39_000], ['hb', 44_000], ['hb', 49_000], ['hb', 54_000]]);
    // Four counted transitions by 26 s; the catch-up at 39 s makes the fifth: more than 4.
    expect(trace[3]?.step.transitions.map(brief)).toEqual(['healthy>suspect@38500']);
    expect(trace.slice(3).map((t) => [t.step.health.state, t.step.health.flapping, t.step.health.recoveryStreak, t.step.note]))
      .toEqual([
        ['suspect', true, 1, 'heartbeat received; flapping: 1 of 3 heartbeats needed'],
        ['suspect', true, 2, 'heartbeat received; flapping: 2 of 3 heartbeats needed'],
        ['healthy', false, 0, undefined],
        ['healthy', false, 0, undefined],
      ]);
    expect(trace[5]?.step.transitions).toEqual([
      { from: 'suspect', to: 'healthy', at: 49_000, reason: 'heartbeat received; flapping: 3 of 3 heartbeats, recovered' },
    ]);
  });

  it('restarts the streak after a gap of the suspect threshold or more', () => {
    const trace = run([...blips, ['hb', 39_000], ['hb', 44_000], ['hb', 56_500], ['hb', 61_000], ['hb', 66_000]]);
    expect(trace.slice(3).map((t) => [t.step.health.state, t.step.health.recoveryStreak])).toEqual([
      ['suspect', 1], ['suspect', 2], ['suspect', 1], ['suspect', 2], ['healthy', 0],
    ]);
  });

  it('keeps ticking a held server down if it goes silent, and resets its streak', () => {
    const trace = run([...blips, ['hb', 39_000], ['hb', 44_000], ['tick', 59_000]]);
    expect(last(trace).health).toMatchObject({ state: 'unreachable', recoveryStreak: 0, flapping: true });
  });

  it('counts only transitions inside the window', () => {
    // After 4 transitions, a 10-minute outage: only unreachable > down (at 326 s) is in the window at 700 s.
    const trace = run([...blips, ['hb', 700_000]]);
    expect(last(trace).health).toMatchObject({ state: 'healthy', flapping: false, recentTransitions: [326_000, 700_000] });
  });

  it('does not count leaving unknown as a flap', () => {
    const trace = run([['tick', 50_000], ['hb', 51_000], ['hb', 64_000], ['hb', 77_000]]);
    // unknown>unreachable is not counted, so 4 transitions are on record when the last heartbeat arrives.
    expect(last(trace).health.state).toBe('healthy');
    expect(last(trace).health.recentTransitions).toEqual([51_000, 63_500, 64_000, 76_500, 77_000]);
  });

  it('lets a held server go once its transitions age out of the window', () => {
    const cfg = healthConfig({ flap: { windowMs: 35_000 } });
    const trace = run([...blips, ['hb', 39_000], ['hb', 44_000], ['hb', 49_000]], cfg);
    // At 49 s the window (14 s, 49 s] holds 25.5 s, 26 s and 38.5 s: not more than 4.
    expect(trace[4]?.step.health.state).toBe('suspect');
    expect(trace[5]?.step.transitions.map((t) => t.reason)).toEqual(['heartbeat received; no longer flapping']);
  });

  it('with recoveryHeartbeats 1, damping never holds', () => {
    const trace = run([...blips, ['hb', 39_000]], healthConfig({ flap: { recoveryHeartbeats: 1 } }));
    expect(last(trace).health.state).toBe('healthy');
  });

  it('stays O(1): a steady heartbeat reuses the transition history, a flap storm keeps it bounded', () => {
    let health = onHeartbeat(startTracking(0), 0, config).health;
    const history = health.recentTransitions;
    for (let t = 5_000; t <= 5_000_000; t += 5_000) {
      const step = onHeartbeat(health, t, config);
      expect(step.transitions.length).toBe(0);
      health = step.health;
    }
    expect(health.recentTransitions).toBe(history);
    // Every heartbeat 16 s after the last: suspect, unreachable, healthy again (never held).
    const storm = healthConfig({ flap: { recoveryHeartbeats: 1 } });
    for (let t = 5_016_000; t < 5_016_000 + 16_000 * 10_000; t += 16_000) {
      const step = onHeartbeat(health, t, storm);
      expect(step.transitions.length).toBe(3);
      health = step.health;
      expect(health.recentTransitions.length).toBeLessThanOrEqual(storm.flap.maxTransitions + 1);
    }
    expect(health.recentTransitions.length).toBe(storm.flap.maxTransitions + 1);
  });
});

describe('healthConfig', () => {
  it('returns frozen defaults', () => {
    const cfg = healthConfig();
    expect(cfg).toEqual({ intervalMs: 5_000, suspectAfterMissed: 2, ttlMs: 15_000, reconnectGraceMs: 30_000, downAfterMs: 300_000, flap: { windowMs: 600_000, maxTransitions: 4, recoveryHeartbeats: 3 } });
    expect(cfg).toEqual(DEFAULT_HEALTH_CONFIG);
    expect(Object.isFrozen(cfg) && Object.isFrozen(cfg.flap)).toBe(true);
    expect(suspectAfterMs(cfg)).toBe(12_500);
  });

  it('gives agents their longest reconnect wait (30 s) after tracking starts, but never past half the way to down', () => {
    expect(healthConfig({ intervalMs: 1_000, ttlMs: 3_000 }).reconnectGraceMs).toBe(30_000);
    expect(healthConfig({ intervalMs: 1_000, ttlMs: 3_000, downAfterMs: 13_000 }).reconnectGraceMs).toBe(5_000);
    expect(healthConfig({ reconnectGraceMs: 0 }).reconnectGraceMs).toBe(0);
    expect(() => healthConfig({ reconnectGraceMs: 290_000 })).toThrow(/^reconnectGraceMs: ttlMs \+ reconnectGraceMs must be less than downAfterMs \(300000 ms\)/);
    expect(() => healthConfig({ reconnectGraceMs: -1 })).toThrow(/^reconnectGraceMs: must be at least 0/);
  });

  it('merges partial settings, flap included', () => {
    expect(healthConfig({ ttlMs: 20_000, flap: { maxTransitions: 6 }, downAfterMs: undefined })).toEqual({
      ...DEFAULT_HEALTH_CONFIG, ttlMs: 20_000, flap: { ...DEFAULT_HEALTH_CONFIG.flap, maxTransitions: 6 },
    });
  });

  it.each<[string, unknown, string]>([
    ['interval not positive', { intervalMs: 0 }, 'intervalMs: must be greater than 0, got 0'],
    ['interval not a number', { intervalMs: Number.NaN }, 'intervalMs: must be a finite number, got NaN'],
    ['fractional missed count', { suspectAfterMissed: 1.5 }, 'suspectAfterMissed: must be a whole number, got 1.5'],
    ['no missed heartbeats', { suspectAfterMissed: 0 }, 'suspectAfterMissed: must be at least 1, got 0'],
    ['ttl at the suspect threshold', { ttlMs: 12_500 }, 'ttlMs: must be greater than the suspect threshold, intervalMs * (suspectAfterMissed + 0.5) = 12500 ms, got 12500'],
    ['ttl above interval * missed but not the threshold', { ttlMs: 11_000 }, 'ttlMs: must be greater than the suspect threshold'],
    ['a longer interval without a longer ttl', { intervalMs: 10_000 }, 'ttlMs: must be greater than the suspect threshold, intervalMs * (suspectAfterMissed + 0.5) = 25000 ms, got 15000'],
    ['down not after ttl', { downAfterMs: 15_000 }, 'downAfterMs: must be greater than ttlMs (15000 ms), got 15000'],
    ['ttl a string', { ttlMs: '15s' }, 'ttlMs: must be a finite number, got 15s'],
    ['flap window', { flap: { windowMs: -1 } }, 'flap.windowMs: must be greater than 0, got -1'],
    ['flap max', { flap: { maxTransitions: -1 } }, 'flap.maxTransitions: must be at least 0, got -1'],
    ['flap recovery', { flap: { recoveryHeartbeats: 0 } }, 'flap.recoveryHeartbeats: must be at least 1, got 0'],
    ['flap not an object', { flap: 3 }, 'flap: must be an object, got 3'],
    ['unknown setting', { ttl: 15_000 }, 'ttl: not a health setting'],
    ['unknown flap setting', { flap: { window: 1 } }, 'flap.window: not a health setting'],
  ])('rejects %s', (_name, partial, message) => {
    let error: unknown;
    try {
      healthConfig(partial as any);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error);
    expect((error as Error).message).toContain(message);
  });
});

describe('health properties', () => {
  const configArb = fc.record({
    intervalMs: fc.integer({ min: 100, max: 10_000 }),
    suspectAfterMissed: fc.integer({ min: 1, max: 4 }),
    ttlExtra: fc.integer({ min: 1, max: 20_000 }),
    downExtra: fc.integer({ min: 1, max: 200_000 }),
    windowMs: fc.integer({ min: 1_000, max: 1_000_000 }),
    maxTransitions: fc.integer({ min: 0, max: 6 }),
    recoveryHeartbeats: fc.integer({ min: 1, max: 4 }),
  }).map((r) => {
    const ttlMs = Math.ceil(r.intervalMs * (r.suspectAfterMissed + 0.5)) + r.ttlExtra;
    return healthConfig({
      intervalMs: r.intervalMs, suspectAfterMissed: r.suspectAfterMissed, ttlMs, downAfterMs: ttlMs + r.downExtra,
      flap: { windowMs: r.windowMs, maxTransitions: r.maxTransitions, recoveryHeartbeats: r.recoveryHeartbeats },
    });
  });

  // Gaps on the scale of the interval, the ttl and downAfterMs, so every threshold gets crossed and missed.
  const rawOps = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1_000 })), { maxLength: 40 });
  const scenario = fc.tuple(configArb, rawOps, fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 }))).map(([cfg, raw, lastSeen]) => {
    const scales = [cfg.intervalMs, cfg.ttlMs, cfg.downAfterMs];
    let t = 1_000_000;
    const ops: Op[] = raw.map(([hb, scale, permille]) => {
      t += Math.round(((scales[scale] ?? 0) * 2 * permille) / 1_000);
      return [hb ? 'hb' : 'tick', t] as const;
    });
    return { cfg, ops, start: startTracking(1_000_000, lastSeen === null ? null : 1_000_000 + lastSeen) };
  });

  const RANK: Record<HealthState, number> = { unknown: -1, healthy: 0, suspect: 1, unreachable: 2, down: 3 };

  it('(a) with a heartbeat every interval (jitter under half an interval) the server is healthy after the first', () => {
    const arb = fc.tuple(configArb, fc.array(fc.tuple(fc.double({ min: -0.49, max: 0.49, noNaN: true }), fc.option(fc.double({ min: 0, max: 1, noNaN: true }))), { maxLength: 60 }));
    fc.assert(fc.property(arb, ([cfg, beats]) => {
      const ops: Op[] = [['hb', 0]];
      let t = 0;
      for (const [jitter, tickAt] of beats) {
        const gap = Math.round(cfg.intervalMs * (1 + jitter));
        if (tickAt !== null) ops.push(['tick', t + Math.floor(gap * tickAt)]);
        t += gap;
        ops.push(['hb', t]);
      }
      const trace = run(ops, cfg);
      expect(trace.every((s) => s.step.health.state === 'healthy')).toBe(true);
      expect(allTransitions(trace).length).toBe(1);
    }));
  });

  it('(b) a tick never raises the state', () => {
    fc.assert(fc.property(scenario, ({ cfg, ops, start }) => {
      for (const { op, before, step } of run(ops, cfg, start)) {
        if (op[0] !== 'tick') continue;
        if (before.state === 'unknown') expect(['unknown', 'unreachable', 'down']).toContain(step.health.state);
        else expect(RANK[step.health.state]).toBeGreaterThanOrEqual(RANK[before.state]);
      }
    }));
  });

  it('(c) onTick is idempotent at the same time', () => {
    fc.assert(fc.property(scenario, fc.integer({ min: 0, max: 400_000 }), ({ cfg, ops, start }, later) => {
      for (const { op, step } of run(ops, cfg, start)) {
        const now = op[1] + later;
        const once = onTick(step.health, now, cfg);
        const twice = onTick(once.health, now, cfg);
        expect(twice.health).toEqual(once.health);
        expect(twice.transitions).toEqual([]);
      }
    }));
  });

  it('(d) each transition starts where the previous one ended, in time order, never after now', () => {
    fc.assert(fc.property(scenario, ({ cfg, ops, start }) => {
      let state = start.state;
      let at = start.since;
      for (const { op, before, step } of run(ops, cfg, start)) {
        expect(before.state).toBe(state);
        for (const t of step.transitions) {
          expect(t.from).toBe(state);
          expect(t.to).not.toBe(t.from);
          expect(t.at).toBeGreaterThanOrEqual(at);
          expect(t.at).toBeLessThanOrEqual(Math.max(op[1], before.since));
          state = t.to;
          at = t.at;
        }
        expect(step.health.state).toBe(state);
        expect(step.health.since).toBe(at);
        expect(step.health.recentTransitions.length).toBeLessThanOrEqual(cfg.flap.maxTransitions + 1);
      }
    }));
  });

  it('(e) a tick just before nextDeadline never changes the state; one at it does', () => {
    fc.assert(fc.property(scenario, ({ cfg, ops, start }) => {
      for (const health of [start, ...run(ops, cfg, start).map((s) => s.step.health)]) {
        const deadline = nextDeadline(health, cfg);
        if (deadline === null) {
          expect(health.state).toBe('down');
          continue;
        }
        expect(onTick(health, deadline - 1, cfg).health.state).toBe(health.state);
        expect(onTick(health, deadline, cfg).health.state).not.toBe(health.state);
      }
    }));
  });

  it('does not depend on how often the controller ticks', () => {
    fc.assert(fc.property(scenario, ({ cfg, ops, start }) => {
      if (ops.length === 0) return;
      const sparse = ops.filter((op, i) => op[0] === 'hb' || i === ops.length - 1);
      const dense = run(ops, cfg, start);
      const few = run(sparse, cfg, start);
      expect(last(few).health).toEqual(last(dense).health);
      expect(allTransitions(few)).toEqual(allTransitions(dense));
    }));
  });

  it('never lets a restored lastSeenAt change a state or transition time', () => {
    fc.assert(fc.property(scenario, ({ cfg, ops, start }) => {
      const fresh = startTracking(start.trackedSince);
      const timeline = (s: ServerHealth) => run(ops, cfg, s).map((x) => [x.step.health.state, x.step.transitions.map(brief)]);
      expect(timeline(start)).toEqual(timeline(fresh));
    }));
  });
});
