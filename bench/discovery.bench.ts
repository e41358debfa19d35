/**
 * Joining latency in the fleet lab (root, built CLI): how long from starting `cistern agent` on a
 * box until the controller lists it as pending (`--discoverable`, found by mDNS and its pending
 * connection), and until it is `healthy` (`--provisioning-key`, controller found by mDNS). Times
 * come from the controller's own events (`discovered`, `health … → healthy`), on the same clock
 * as the start. One box joins at a time, each with fresh state, so samples do not compete.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetEvent } from '../src/controller/events.js';
import type { LabHost } from '../test/lab/host.js';
import { createLab, type Lab } from '../test/lab/index.js';
import { figuresFrom, type BenchSuite, type SuiteRun } from './harness.js';

const SAMPLES = 8;
const BOXES = 4;

async function events(h1: LabHost): Promise<FleetEvent[]> {
  const result = await h1.cistern(['events', '--limit', '1000', '--json']);
  if (result.code !== 0) throw new Error(`cistern events failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as FleetEvent[];
}

async function waitForEvent(h1: LabHost, what: string, match: (e: FleetEvent) => boolean, timeoutMs = 15_000): Promise<FleetEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await events(h1)).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} event within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const eventTime = (e: FleetEvent) => (typeof e.at === 'number' ? e.at : Date.parse(String(e.at)));

/** Kills the box's agent and forgets its state: the next start is a new box. */
async function reset(lab: Lab, box: LabHost): Promise<void> {
  if (box.processes.has('agent')) await lab.kill(box, 'agent');
  box.processes.delete('agent');
  rmSync(join(box.dir, 'agent', 'state'), { recursive: true, force: true });
}

async function measure(): Promise<SuiteRun> {
  const lab = await createLab({ hosts: BOXES + 1, services: { sshd: false, transmission: false, media: false }, timeLimitMs: 240_000 });
  try {
    const [h1, ...boxes] = lab.hosts as [LabHost, ...LabHost[]];
    await h1.startController();
    const created = await h1.cistern(['token', 'create', '--provisioning', '--json']);
    const key = (JSON.parse(created.stdout) as { provisioningKey: string }).provisioningKey;
    const discovery: number[] = [];
    const registration: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const box = boxes[i % BOXES] as LabHost;
      await reset(lab, box);
      const name = `pending-${i}`;
      const started = Date.now();
      await box.startAgent({ discoverable: true, name });
      const found = await waitForEvent(h1, `discovered ${name}`, (e) => e.kind === 'discovered' && (e.data as { name?: string }).name === name);
      discovery.push(eventTime(found) - started);
    }
    for (let i = 0; i < SAMPLES; i++) {
      const box = boxes[i % BOXES] as LabHost;
      await reset(lab, box);
      const name = `provisioned-${i}`;
      const started = Date.now();
      await box.startAgent({ provisioningKey: key, name });
      const healthy = await waitForEvent(h1, `${name} healthy`, (e) => e.kind === 'health' && e.server === name && (e.data as { to?: string }).to === 'healthy');
      registration.push(eventTime(healthy) - started);
    }
    console.log(`samples: discovery ${discovery.join(", ")} ms; registration ${registration.join(", ")} ms`);
    const discoveryFigures = figuresFrom('agent start → pending in cistern discover (--discoverable)', discovery);
    const registrationFigures = figuresFrom('agent start → healthy (--provisioning-key, mDNS)', registration);
    return {
      figures: [discoveryFigures, registrationFigures],
      goals: [
        { name: 'discovery latency p99', value: discoveryFigures.p99_ms, unit: 'ms', max: 2_000 },
        { name: 'provisioning registration latency p99', value: registrationFigures.p99_ms, unit: 'ms', max: 3_000 },
      ],
    };
  } finally {
    await lab.destroy();
  }
}

export const discoverySuite: BenchSuite = {
  name: 'discovery',
  description: `joining in the fleet lab: ${SAMPLES} discoverable and ${SAMPLES} provisioned boxes, one at a time`,
  run: measure,
};
