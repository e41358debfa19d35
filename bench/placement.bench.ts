/**
 * The placement engine on a generated fleet of 1,000 servers and 5,000 services: a full plan from
 * nothing, and re-plans from the applied plan after losing a server, after adding one, and with
 * nothing changed. Goals (2-core machine): the full plan under 1 s, the re-plan after a loss
 * under 100 ms (p99).
 */
import { plan, type PlacementSnapshot, type PlanResult } from '../src/placement/index.js';
import { applied, generateSnapshot } from '../src/testing/placement.js';
import type { BenchSuite } from './harness.js';

const SERVERS = 1_000;
const SERVICES = 5_000;

let fresh: PlacementSnapshot;
let steady: PlacementSnapshot;
let lost: PlacementSnapshot;
let added: PlacementSnapshot;
let lostName = '';

/** A re-plan must move only what ran on the lost server; a bench that measured anything else would mislead. */
function checkLoss(result: PlanResult): void {
  const onLost = new Set(steady.current?.filter((c) => c.primary === lostName || c.replicas.includes(lostName)).map((c) => c.service));
  const stray = result.moves.find((m) => m.from !== null && !onLost.has(m.service));
  if (stray) throw new Error(`losing ${lostName} moved ${stray.service}, which did not run there`);
  if (onLost.size === 0) throw new Error(`${lostName} ran nothing`);
}

export const placementSuite: BenchSuite = {
  name: 'placement',
  description: `plan ${SERVICES} services on ${SERVERS} servers, and re-plan after a change`,
  setup() {
    fresh = generateSnapshot({ servers: SERVERS, services: SERVICES, seed: 7 });
    steady = applied(fresh, plan(fresh));
    // The busiest server: the loss that moves the most.
    const load = new Map<string, number>();
    for (const c of steady.current ?? []) for (const s of [c.primary, ...c.replicas]) if (s) load.set(s, (load.get(s) ?? 0) + 1);
    lostName = [...load].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '';
    lost = { ...steady, servers: steady.servers.filter((s) => s.name !== lostName) };
    const template = steady.servers[0];
    if (!template) throw new Error('the generated fleet is empty');
    added = { ...steady, servers: [...steady.servers, { ...template, name: 'media-new', health: 'healthy', draining: false, load: { cpuPercent: 0, memoryUsedMb: 0 } }] };
    checkLoss(plan(lost));
  },
  cases() {
    return [
      { name: `plan ${SERVICES}x${SERVERS}`, fn: () => plan(fresh), iterations: 15, time: 0 },
      { name: 'replan after losing a server', fn: () => plan(lost), iterations: 40, time: 2_000 },
      { name: 'replan after adding a server', fn: () => plan(added), iterations: 20, time: 0 },
      { name: 'replan unchanged', fn: () => plan(steady), iterations: 20, time: 0 },
    ];
  },
  goals: [
    { case: `plan ${SERVICES}x${SERVERS}`, metric: 'p99', maxMs: 1_000 },
    { case: 'replan after losing a server', metric: 'p99', maxMs: 100 },
  ],
};
