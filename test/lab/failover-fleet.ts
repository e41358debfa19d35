/**
 * The fleet the failover test and the failover bench both run: a controller on h1 and agents on
 * the other hosts, with Sonarr placed as a single-writer service played by the journal writer
 * stand-in (it answers Sonarr's /ping and appends to `journal` every 50 ms). Returns once both
 * agents are healthy; the caller applies the placement.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from '../support/fleet.js';
import type { LabHost } from './host.js';

const WRITER = new URL('./standins/journal-writer.js', import.meta.url).pathname;

export async function startFailoverFleet(h1: LabHost, agents: readonly LabHost[], journal: string, options: { healthyWithinMs: number }): Promise<void> {
  const json = <T>(args: string[]) => h1.cisternJson<T>(args);
  const inventory = join(h1.dir, 'inventory.yaml');
  writeFileSync(inventory, [
    'servers: {}',
    'services:',
    '  sonarr:',
    '    replicas: 1',
    `    process: { argv: [${JSON.stringify(process.execPath)}, ${JSON.stringify(WRITER)}, ${JSON.stringify(journal)}, "8989"] }`,
    '    supervision: { interval_ms: 500, timeout_ms: 400, failure_threshold: 2, initial_delay_ms: 200 }',
    '',
  ].join('\n'));
  await h1.startController({ inventory, mdns: false });
  for (const host of agents) {
    const token = await json<{ command: string }>(['token', 'create', '--uses', '1']);
    await host.startAgent({ joinCommand: token.command, mdns: false, args: ['--service-driver', 'process'] });
  }
  await waitUntil(`${agents.length} agents healthy`, async () => (await json<Array<{ health: string }>>(['status'])).filter((s) => s.health === 'healthy').length === agents.length, { timeoutMs: options.healthyWithinMs });
}
