/**
 * `npm run lab -- up [N] [--name NAME] [--fleet]`: a lab fleet of N hosts (default 3) that stays
 * up for a person to explore; `npm run lab -- down [--name NAME]` removes it;
 * `npm run lab -- status` lists labs; `npm run lab -- cleanup` removes leftovers of dead runs.
 * Needs root.
 */
import { Command } from 'commander';
import { cleanupStale, createLab, LAB_SUBNET, MEDIA_APPS, SSH_PORT, TRANSMISSION_RPC_PORT, type Lab } from './index.js';
import { findLabs, labDir, ownerAlive, readMarker } from './registry.js';
import { BIN } from '../support/cistern.js';
import { CONTROLLER_PORT } from './services.js';

const DEFAULT_NAME = 'manual';

function describe(lab: Lab): string {
  const [first, second] = lab.hosts;
  const target = second ?? first;
  const services = [`sshd :${SSH_PORT}`, `transmission-daemon :${TRANSMISSION_RPC_PORT}`, ...Object.entries(MEDIA_APPS).map(([app, { port }]) => `${app} :${port}`)].join(', ');
  const lines = [
    `lab "${lab.name}" is up: ${lab.hosts.length} hosts on ${LAB_SUBNET}, joined by bridge br0 in namespace ${lab.switchNamespace}`,
    '',
    ...lab.hosts.map((h) => `  ${h.name}  ${h.address.padEnd(12)}  enter it: ip netns exec ${h.namespace} bash`),
    '',
    `every host runs: ${services}${lab.hosts.some((h) => h.controller) ? `; h1 runs the controller (https://${first?.address}:${CONTROLLER_PORT}) and every host an agent` : ''}`,
    `media API key (X-Api-Key, MediaBrowser Token, apikey=): ${lab.apiKey}`,
  ];
  const controller = lab.hosts.find((h) => h.controller);
  if (controller?.controller) lines.push(`cistern CLI: ip netns exec ${controller.namespace} env HOME=${controller.controller.home} ${BIN} status`);
  if (first && target) {
    lines.push(
      '',
      'try, from a host:',
      `  ip netns exec ${first.namespace} curl -si http://${target.address}:${MEDIA_APPS.jellyfin.port}/health`,
      `  ip netns exec ${first.namespace} curl -si -X POST http://${target.address}:${TRANSMISSION_RPC_PORT}/transmission/rpc`,
      'faults by hand:',
      `  cut ${target.name} off:   ip -n ${lab.switchNamespace} link set ${target.port} down   (back: … up)`,
      `  freeze a process: kill -STOP PID   (thaw: kill -CONT PID; a host's pids: ip netns pids ${target.namespace})`,
      `  a failing app:    echo '{"health":"fail"}' > ${labDir(lab.name)}/${target.name}/media/jellyfin.json   (also "hang", "degraded", "ok"; "delayMs": N)`,
      `logs: ${labDir(lab.name)}/h*/*.log`,
    );
  }
  lines.push(`remove it: npm run lab -- down${lab.name === DEFAULT_NAME ? '' : ` --name ${lab.name}`}`);
  return lines.join('\n');
}

const program = new Command('lab').description('the fleet lab: network-namespace hosts on this machine (needs root)');

program.command('up')
  .description('start a lab fleet that stays up until `down`')
  .argument('[hosts]', 'how many hosts', '3')
  .option('--name <name>', 'lab name', DEFAULT_NAME)
  .option('--fleet', 'also a Cistern controller on h1 and an agent on every host (needs `npm run build`)')
  .action(async (hosts: string, options: { name: string; fleet?: boolean }) => {
    const lab = await createLab({ hosts: Number(hosts), name: options.name, keep: true, ...(options.fleet ? { fleet: {} } : {}) });
    console.log(describe(lab));
  });

program.command('down')
  .description('remove a lab: kill its processes, delete its namespaces and folder')
  .option('--name <name>', 'lab name', DEFAULT_NAME)
  .action(async (options: { name: string }) => {
    const removed = await cleanupStale({ name: options.name });
    console.log(removed.length > 0 ? `lab "${options.name}" removed` : `no lab "${options.name}" to remove`);
  });

program.command('status')
  .description('list the labs on this machine')
  .action(async () => {
    const labs = await findLabs();
    if (labs.size === 0) console.log('no labs');
    for (const [name, namespaces] of labs) {
      const marker = readMarker(name);
      const owner = !marker ? 'no owner record' : marker.keep ? 'kept (npm run lab -- down)' : ownerAlive(marker) ? `in use by pid ${marker.pid}` : `stale (owner ${marker.pid} is gone)`;
      console.log(`${name}: ${namespaces.length} namespaces, ${owner}`);
    }
  });

program.command('cleanup')
  .description('remove leftovers of labs whose owner is gone (kept labs stay unless --all)')
  .option('--all', 'also remove kept labs')
  .action(async (options: { all?: boolean }) => {
    const removed = await cleanupStale({ includeKept: options.all ?? false });
    console.log(removed.length > 0 ? `removed: ${removed.join(', ')}` : 'nothing to remove');
  });

try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (error) {
  console.error(`lab: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
