/**
 * Failover time in the fleet lab (root, built CLI): a single-writer service (the journal writer
 * stand-in answering Sonarr's /ping) runs on one of two agents with the other as its replica;
 * the primary's host is cut off, and the time until the replica answers the health endpoint is
 * measured from the controller's host. Then the host is restored, the service is failed back by
 * hand, and the next round cuts the other way. Controller TTL 3 s, grace 1 s.
 */
import { join } from 'node:path';
import type { ServiceView } from '../src/controller/services/manager.js';
import type { LabHost } from '../test/lab/host.js';
import { startFailoverFleet } from '../test/lab/failover-fleet.js';
import { createLab } from '../test/lab/index.js';
import { waitUntil } from '../test/support/fleet.js';
import { figuresFrom, type BenchSuite, type SuiteRun } from './harness.js';

const ROUNDS = 4;
const TTL_MS = 3_000;

async function measure(): Promise<SuiteRun> {
  const lab = await createLab({ hosts: 3, services: { sshd: false, transmission: false, media: false }, timeLimitMs: 300_000 });
  try {
    const [h1, ...agents] = lab.hosts as [LabHost, LabHost, LabHost];
    const json = <T>(args: string[]) => h1.cisternJson<T>(args);
    const answers = async (to: LabHost) => (await h1.http(`http://${to.address}:8989/ping`, { timeoutMs: 500 }).catch(() => undefined))?.status === 200;
    await startFailoverFleet(h1, agents, join(h1.dir, 'journal.log'), { healthyWithinMs: 15_000 });
    await json(['services', 'apply']);
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const [view] = await json<ServiceView[]>(['services', 'show']);
      const primary = agents.find((h) => h.name === view?.primary) as LabHost;
      const replica = agents.find((h) => h.name !== primary.name) as LabHost;
      await waitUntil('the primary answering', () => answers(primary), { timeoutMs: 20_000, intervalMs: 100 });
      await lab.cut(primary);
      const cutAt = Date.now();
      await waitUntil('the replica answering', () => answers(replica), { timeoutMs: 20_000, intervalMs: 50 });
      samples.push(Date.now() - cutAt);
      await lab.restore(primary);
      await waitUntil('the old primary back', async () => (await json<Array<{ name: string; health: string; connected: boolean }>>(['status'])).some((s) => s.name === primary.name && s.health === 'healthy' && s.connected), { timeoutMs: 20_000 });
    }
    console.log(`samples: ${samples.join(', ')} ms`);
    const figures = figuresFrom('primary cut off → replica answering /ping (TTL 3 s, grace 1 s)', samples);
    return { figures: [figures], goals: [{ name: 'failover time p99', value: figures.p99_ms, unit: 'ms', max: TTL_MS + 3_000 }] };
  } finally {
    await lab.destroy();
  }
}

export const failoverSuite: BenchSuite = {
  name: 'failover',
  description: `failover of a single-writer service in the fleet lab, ${ROUNDS} rounds`,
  run: measure,
};
