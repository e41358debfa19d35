import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyState, nextDeadline, step, type EngineConfig, type NotifyPolicy, type NotifyState } from './engine.js';
import type { AlertInput, Notification, Severity } from './types.js';

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const POLICY: NotifyPolicy = { groupWaitMs: 10 * S, repeatIntervalMs: 4 * HOUR, rateLimit: { burst: 10, intervalMs: 6 * S } };
const T0 = 1_700_000_000_000;

const down = (server: string, status: AlertInput['status'] = 'firing', severity: Severity = 'warning'): AlertInput =>
  ({ key: `ServerDown/${server}`, name: 'ServerDown', severity, summary: `${server} is unreachable`, status, labels: { server } });
const failed = (service: string, status: AlertInput['status'] = 'firing'): AlertInput =>
  ({ key: `ServiceFailed/alpha/${service}`, name: 'ServiceFailed', severity: 'critical', summary: `${service} failed`, status, labels: { server: 'alpha', service } });
const notice = (epoch: number): AlertInput =>
  ({ key: `ServiceFailover/jellyfin/${epoch}`, name: 'ServiceFailover', severity: 'warning', summary: 'jellyfin failed over', status: 'firing', once: true });

interface Timed { at: number; input: AlertInput }

/**
 * Drives the engine as the notifier does: each input at its time, and a step at every deadline
 * in between, up to `until`. Checks that every deadline lies in the future of the step before.
 */
function simulate(config: EngineConfig, inputs: readonly Timed[], until: number, start: NotifyState = emptyState()): { state: NotifyState; sent: Notification[] } {
  let state = start;
  const sent: Notification[] = [];
  let i = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (;;) {
    const deadline = nextDeadline(state, config);
    if (deadline !== undefined && deadline <= last) throw new Error(`deadline ${deadline} is not after the step at ${last}`);
    const nextInput = inputs[i]?.at;
    const now = Math.min(deadline ?? Infinity, nextInput ?? Infinity);
    if (now === Infinity || now > until) return { state, sent };
    const input = nextInput === now ? inputs[i++]?.input : undefined;
    const result = step(state, config, now, input);
    state = result.state;
    sent.push(...result.notifications);
    last = now;
  }
}

const at = (seconds: number, input: AlertInput): Timed => ({ at: T0 + seconds * S, input });
const summary = (sent: readonly Notification[]) => sent.map((n) => ({
  receiver: n.receiver, t: (n.at - T0) / S, groups: n.groups.join(','), status: n.status, folded: n.folded,
  alerts: n.alerts.map((a) => `${a.key} ${a.status}`),
}));

describe('notify engine: grouping, dedup, resolution', () => {
  const ops: EngineConfig = { receivers: ['ops'], policy: POLICY };

  it.each<{ name: string; inputs: Timed[]; until: number; expected: ReturnType<typeof summary> }>([
    {
      name: 'one firing alert: one message, group_wait after it',
      inputs: [at(0, down('alpha'))], until: 60,
      expected: [{ receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] }],
    },
    {
      name: 'alerts of one name within group_wait: one message with both',
      inputs: [at(0, down('alpha')), at(9, down('beta'))], until: 60,
      expected: [{ receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing', 'ServerDown/beta firing'] }],
    },
    {
      name: 'an alert after the group went out: its own message, without the one already sent',
      inputs: [at(0, down('alpha')), at(11, down('beta'))], until: 60,
      expected: [
        { receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
        { receiver: 'ops', t: 21, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/beta firing'] },
      ],
    },
    {
      name: 'different names: separate messages',
      inputs: [at(0, down('alpha')), at(1, failed('sonarr'))], until: 60,
      expected: [
        { receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
        { receiver: 'ops', t: 11, groups: 'ServiceFailed', status: 'firing', folded: 0, alerts: ['ServiceFailed/alpha/sonarr firing'] },
      ],
    },
    {
      name: 'the same firing alert again: not sent twice',
      inputs: [at(0, down('alpha')), at(5, down('alpha')), at(30, down('alpha')), at(3600, down('alpha'))], until: 3 * 3600,
      expected: [{ receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] }],
    },
    {
      name: 'still firing after repeat_interval: a reminder',
      inputs: [at(0, down('alpha'))], until: 8 * 3600 + 60,
      expected: [
        { receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
        { receiver: 'ops', t: 4 * 3600 + 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
        { receiver: 'ops', t: 8 * 3600 + 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
      ],
    },
    {
      name: 'resolved: one resolved message, then nothing more',
      inputs: [at(0, down('alpha')), at(60, down('alpha', 'resolved')), at(70, down('alpha', 'resolved'))], until: 5 * 3600,
      expected: [
        { receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
        { receiver: 'ops', t: 70, groups: 'ServerDown', status: 'resolved', folded: 0, alerts: ['ServerDown/alpha resolved'] },
      ],
    },
    {
      name: 'fired and resolved within group_wait: nothing',
      inputs: [at(0, down('alpha')), at(5, down('alpha', 'resolved'))], until: 60,
      expected: [],
    },
    {
      name: 'resolved without having fired: nothing',
      inputs: [at(0, down('alpha', 'resolved'))], until: 60,
      expected: [],
    },
    {
      name: 'a firing and a resolved alert of one group: one message, firing first',
      inputs: [at(0, down('beta')), at(20, down('beta', 'resolved')), at(25, down('alpha'))], until: 60,
      expected: [
        { receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/beta firing'] },
        { receiver: 'ops', t: 30, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing', 'ServerDown/beta resolved'] },
      ],
    },
    {
      name: 'escalation from warning to critical: told again',
      inputs: [at(0, down('alpha')), at(300, down('alpha', 'firing', 'critical'))], until: 400,
      expected: [
        { receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
        { receiver: 'ops', t: 310, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
      ],
    },
    {
      name: 'a notice: sent once, never repeated nor resolved; another epoch is news',
      inputs: [at(0, notice(1)), at(100, notice(2))], until: 9 * 3600,
      expected: [
        { receiver: 'ops', t: 10, groups: 'ServiceFailover', status: 'firing', folded: 0, alerts: ['ServiceFailover/jellyfin/1 firing'] },
        { receiver: 'ops', t: 110, groups: 'ServiceFailover', status: 'firing', folded: 0, alerts: ['ServiceFailover/jellyfin/2 firing'] },
      ],
    },
  ])('$name', ({ inputs, until, expected }) => {
    expect(summary(simulate(ops, inputs, T0 + until * S).sent)).toEqual(expected);
  });

  it('forgets an alert once every receiver has been told it resolved', () => {
    const { state } = simulate(ops, [at(0, down('alpha')), at(60, down('alpha', 'resolved'))], T0 + 100 * S);
    expect(state.alerts).toEqual({});
    expect(state.receivers.ops?.sent).toEqual({});
    expect(nextDeadline(state, ops)).toBeUndefined();
  });

  it('never mutates the state it is given', () => {
    const before = step(emptyState(), ops, T0, down('alpha')).state;
    const frozen = structuredClone(before);
    step(before, ops, T0 + 20 * S, down('beta'));
    step(before, ops, T0 + 20 * S);
    expect(before).toEqual(frozen);
  });

  it('a receiver added later hears of the alerts firing now, after group_wait', () => {
    const first = simulate(ops, [at(0, down('alpha'))], T0 + 60 * S);
    const both: EngineConfig = { receivers: ['ops', 'phone'], policy: POLICY };
    const later = simulate(both, [at(100, failed('sonarr'))], T0 + 200 * S, first.state);
    expect(summary(later.sent)).toEqual([
      { receiver: 'ops', t: 110, groups: 'ServiceFailed', status: 'firing', folded: 0, alerts: ['ServiceFailed/alpha/sonarr firing'] },
      { receiver: 'phone', t: 110, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
      { receiver: 'phone', t: 110, groups: 'ServiceFailed', status: 'firing', folded: 0, alerts: ['ServiceFailed/alpha/sonarr firing'] },
    ]);
  });

  it('routes: an alert goes only to the receivers its route names, with the route\'s timing', () => {
    const config: EngineConfig = {
      receivers: ['ops', 'phone'], policy: POLICY,
      route: (alert) => (alert.severity === 'critical'
        ? [{ receiver: 'phone', groupWaitMs: 1 * S, repeatIntervalMs: HOUR }, { receiver: 'ops', groupWaitMs: 10 * S, repeatIntervalMs: 4 * HOUR }]
        : [{ receiver: 'ops', groupWaitMs: 10 * S, repeatIntervalMs: 4 * HOUR }]),
    };
    const { sent } = simulate(config, [at(0, down('alpha')), at(0, failed('sonarr'))], T0 + HOUR + 10 * S);
    expect(summary(sent)).toEqual([
      { receiver: 'phone', t: 1, groups: 'ServiceFailed', status: 'firing', folded: 0, alerts: ['ServiceFailed/alpha/sonarr firing'] },
      { receiver: 'ops', t: 10, groups: 'ServerDown', status: 'firing', folded: 0, alerts: ['ServerDown/alpha firing'] },
      { receiver: 'ops', t: 10, groups: 'ServiceFailed', status: 'firing', folded: 0, alerts: ['ServiceFailed/alpha/sonarr firing'] },
      { receiver: 'phone', t: 3601, groups: 'ServiceFailed', status: 'firing', folded: 0, alerts: ['ServiceFailed/alpha/sonarr firing'] },
    ]);
  });

  it('a receiver told an alert fires hears it resolve even when its route no longer picks it', () => {
    let routeToPhone = true;
    const config: EngineConfig = {
      receivers: ['ops', 'phone'], policy: POLICY,
      route: () => [{ receiver: routeToPhone ? 'phone' : 'ops', groupWaitMs: 10 * S, repeatIntervalMs: 4 * HOUR }],
    };
    const first = simulate(config, [at(0, down('alpha'))], T0 + 60 * S);
    routeToPhone = false;
    const second = simulate(config, [at(100, down('alpha', 'resolved'))], T0 + 200 * S, first.state);
    expect(summary([...first.sent, ...second.sent]).map((n) => `${n.receiver} ${n.t} ${n.alerts.join()}`)).toEqual([
      'phone 10 ServerDown/alpha firing',
      'phone 110 ServerDown/alpha resolved',
    ]);
  });
});

describe('notify engine: rate limit', () => {
  const names = ['A', 'B', 'C', 'D', 'E'];
  const alert = (name: string, status: AlertInput['status'] = 'firing'): AlertInput => ({ key: `${name}/x`, name, severity: 'warning', summary: name, status });

  it('more groups due at once than tokens: one message folding them all, with the count', () => {
    const config: EngineConfig = { receivers: ['ops'], policy: { ...POLICY, rateLimit: { burst: 2, intervalMs: 30 * S } } };
    const { sent } = simulate(config, names.map((n) => at(0, alert(n))), T0 + 60 * S);
    expect(summary(sent)).toEqual([{ receiver: 'ops', t: 10, groups: 'A,B,C,D,E', status: 'firing', folded: 4, alerts: names.map((n) => `${n}/x firing`) }]);
  });

  it('no token left: the next messages wait for one and go out merged; nothing is lost', () => {
    const config: EngineConfig = { receivers: ['ops'], policy: { ...POLICY, groupWaitMs: 0, rateLimit: { burst: 1, intervalMs: 60 * S } } };
    const inputs = [at(0, alert('A')), at(10, alert('B')), at(20, alert('C')), at(30, alert('C', 'resolved')), at(40, alert('D'))];
    const { sent } = simulate(config, inputs, T0 + 300 * S);
    expect(summary(sent)).toEqual([
      { receiver: 'ops', t: 0, groups: 'A', status: 'firing', folded: 0, alerts: ['A/x firing'] },
      // C fired and resolved while held back: still told, as resolved.
      // B, C, C resolved and D would have been four messages: one, standing for three more.
      { receiver: 'ops', t: 60, groups: 'B,C,D', status: 'firing', folded: 3, alerts: ['B/x firing', 'D/x firing', 'C/x resolved'] },
    ]);
  });

  it('changes to a held group within group_wait count as one message', () => {
    const config: EngineConfig = { receivers: ['ops'], policy: { ...POLICY, groupWaitMs: 10 * S, rateLimit: { burst: 1, intervalMs: 120 * S } } };
    const servers = ['a', 'b', 'c', 'd', 'e'];
    const inputs = [at(0, alert('A')), at(20, down('a')), ...servers.slice(1).map((s, i) => at(31 + i, down(s))), at(60, down('z'))];
    expect(summary(simulate(config, inputs, T0 + 300 * S).sent).map((n) => `${n.t} ${n.groups} ${n.folded} ${n.alerts.length}`)).toEqual([
      '10 A 0 1',
      // Unlimited, this would have been a@30, b..e@41 and z@70: three messages in one.
      '130 ServerDown 2 6',
    ]);
  });

  it('each receiver has its own bucket', () => {
    const config: EngineConfig = { receivers: ['ops', 'phone'], policy: { ...POLICY, groupWaitMs: 0, rateLimit: { burst: 1, intervalMs: 60 * S } } };
    const { sent } = simulate(config, [at(0, alert('A')), at(1, alert('B'))], T0 + 100 * S);
    expect(summary(sent).map((n) => `${n.receiver} ${n.t} ${n.groups}`)).toEqual(['ops 0 A', 'phone 0 A', 'ops 60 B', 'phone 60 B']);
  });
});

describe('notify engine: properties', () => {
  const KEYS = [
    { key: 'ServerDown/a', name: 'ServerDown', severity: 'warning' },
    { key: 'ServerDown/b', name: 'ServerDown', severity: 'warning' },
    { key: 'ServiceFailed/a/x', name: 'ServiceFailed', severity: 'critical' },
    { key: 'DeployFailed/a', name: 'DeployFailed', severity: 'critical' },
  ] as const;

  const scenario = fc.record({
    policy: fc.record({
      groupWaitMs: fc.integer({ min: 0, max: 5_000 }),
      repeatIntervalMs: fc.integer({ min: 1_000, max: 30_000 }),
      rateLimit: fc.record({ burst: fc.integer({ min: 1, max: 3 }), intervalMs: fc.integer({ min: 1, max: 5_000 }) }),
    }),
    receivers: fc.subarray(['a', 'b', 'c'], { minLength: 1 }),
    steps: fc.array(fc.record({
      dt: fc.integer({ min: 0, max: 4_000 }),
      what: fc.oneof(
        fc.record({ k: fc.integer({ min: 0, max: KEYS.length - 1 }), firing: fc.boolean() }),
        fc.constant('notice' as const),
      ),
    }), { maxLength: 40 }),
  });

  /** Inputs with times, notices numbered so each is its own alert. */
  function inputsOf(steps: ReadonlyArray<{ dt: number; what: { k: number; firing: boolean } | 'notice' }>): Timed[] {
    let t = T0;
    let notices = 0;
    return steps.map(({ dt, what }) => {
      t += dt;
      if (what === 'notice') return { at: t, input: notice(++notices) };
      const k = KEYS[what.k] as (typeof KEYS)[number];
      return { at: t, input: { key: k.key, name: k.name, severity: k.severity, summary: k.key, status: what.firing ? 'firing' : 'resolved' } };
    });
  }

  /** Per receiver and key, the statuses it was sent, with their times, in order. */
  function histories(sent: readonly Notification[]): Map<string, Array<{ status: string; at: number }>> {
    const out = new Map<string, Array<{ status: string; at: number }>>();
    for (const n of sent) for (const a of n.alerts) {
      const id = `${n.receiver} ${a.key}`;
      out.set(id, [...(out.get(id) ?? []), { status: a.status, at: n.at }]);
    }
    return out;
  }

  function run(s: typeof scenario extends fc.Arbitrary<infer T> ? T : never) {
    const inputs = inputsOf(s.steps);
    const config: EngineConfig = { receivers: s.receivers, policy: s.policy };
    const end = (inputs.at(-1)?.at ?? T0) + s.policy.groupWaitMs + s.policy.rateLimit.intervalMs * 20;
    return { inputs, config, ...simulate(config, inputs, end) };
  }

  it('never two messages for one unchanged firing alert within the repeat interval', () => {
    fc.assert(fc.property(scenario, (s) => {
      const { sent, config } = run(s);
      for (const history of histories(sent).values()) {
        history.forEach((entry, i) => {
          if (entry.status !== 'firing') return;
          const previous = history.slice(0, i).reverse();
          const lastFiring = previous.findIndex((e) => e.status === 'firing');
          if (lastFiring === -1) return;
          const resolvedBetween = previous.slice(0, lastFiring).some((e) => e.status === 'resolved');
          const gap = entry.at - (previous[lastFiring] as { at: number }).at;
          expect(resolvedBetween || gap >= config.policy.repeatIntervalMs).toBe(true);
        });
      }
    }));
  });

  it('a firing alert that resolves gets exactly one resolved message, after its firing message', () => {
    fc.assert(fc.property(scenario, (s) => {
      const { sent, inputs } = run(s);
      const final = new Map(inputs.map(({ input }) => [input.key, input.status]));
      for (const [id, history] of histories(sent)) {
        const statuses = history.map((e) => e.status);
        for (let i = 1; i < statuses.length; i++) expect(`${statuses[i - 1]} ${statuses[i]}`).not.toBe('resolved resolved');
        const key = id.slice(id.indexOf(' ') + 1);
        if (final.get(key) === 'resolved' && statuses.includes('firing')) expect(statuses.at(-1)).toBe('resolved');
      }
    }));
  });

  it('every alert still firing at the end was told to every receiver; every notice exactly once', () => {
    fc.assert(fc.property(scenario, (s) => {
      const { sent, inputs, config } = run(s);
      const h = histories(sent);
      const final = new Map(inputs.map(({ input }) => [input.key, input]));
      for (const receiver of config.receivers) {
        for (const [key, input] of final) {
          const statuses = (h.get(`${receiver} ${key}`) ?? []).map((e) => e.status);
          if (input.once) expect(statuses).toEqual(['firing']);
          else if (input.status === 'firing') expect(statuses.at(-1)).toBe('firing');
        }
      }
    }));
  });

  it('the rate limit is never exceeded: at most burst + elapsed / interval messages in any window', () => {
    fc.assert(fc.property(scenario, (s) => {
      const { sent, config } = run(s);
      const { burst, intervalMs } = config.policy.rateLimit;
      for (const receiver of config.receivers) {
        const times = sent.filter((n) => n.receiver === receiver).map((n) => n.at);
        for (let i = 0; i < times.length; i++) {
          for (let j = i; j < times.length; j++) {
            expect(j - i + 1).toBeLessThanOrEqual(burst + Math.floor(((times[j] as number) - (times[i] as number)) / intervalMs));
          }
        }
      }
    }));
  });
});
