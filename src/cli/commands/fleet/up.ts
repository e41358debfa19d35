import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { loadClientConfig, saveClientConfig } from '../../client/config.js';
import { defineCommand } from '../../command.js';
import { AGENT_PORT } from '../../../discovery/records.js';
import { parseListen } from './controller.js';
import { untilSignal } from './signals.js';

const NEW_INVENTORY = `# Cistern inventory: the fleet's desired state. Edit it by hand or with \`cistern inventory\`;
# Cistern writes only each server's status: block.
servers: {}
`;

export function upDataDir(env: NodeJS.ProcessEnv): string {
  return env.CISTERN_DATA_DIR ?? join(env.XDG_DATA_HOME ?? join(env.HOME ?? homedir(), '.local', 'share'), 'cistern');
}

/**
 * The CLI's saved address of this controller, moved to `local` when --listen changed the port
 * since the last start. Only a config for this same controller (same CA) is touched.
 */
async function followMovedController(env: NodeJS.ProcessEnv, local: string, caPem: string): Promise<void> {
  // Settings from the environment are the admin's, not the file's: leave the file alone then.
  if (env.CISTERN_URL || env.CISTERN_TOKEN || env.CISTERN_CA) return;
  const saved = await loadClientConfig(env).catch(() => undefined);
  if (saved && saved.controller !== local && saved.caPem === caPem) await saveClientConfig(env, { ...saved, controller: local });
}

export const upCommand = defineCommand({
  path: ['up'],
  summary: 'start Cistern on this machine: a controller, and an agent registering this machine',
  help: [
    'The one command to try Cistern: state goes to ~/.local/share/cistern (embedded SQLite, nothing',
    'else to install), with an inventory.yaml there unless --inventory names one. This machine',
    'becomes the fleet\'s first server. Then, in another terminal: cistern status.',
  ].join('\n'),
  json: false,
  options: [
    { flags: '--data-dir <dir>', description: 'state directory (default ~/.local/share/cistern)' },
    { flags: '--listen <host:port>', description: 'where the HTTPS API listens', default: '0.0.0.0:7443' },
    { flags: '--inventory <file>', description: 'inventory.yaml to keep true (default: one in the data dir)' },
    { flags: '--name <name>', description: 'this machine\'s server name (default: its host name)' },
    { flags: '--no-mdns', description: 'do not advertise on or browse the local network (mDNS)' },
    { flags: '--metrics-listen <host:port>', description: 'where this machine\'s agent serves /metrics over HTTPS, for Prometheus', default: `0.0.0.0:${AGENT_PORT}` },
    { flags: '--no-metrics', description: 'this machine\'s agent serves no /metrics' },
    { flags: '--service-keys <file>', description: 'API keys for this machine\'s services (as for cistern agent; mode 0600)' },
  ],
  input: z.object({
    dataDir: z.string().optional(), listen: z.string(), inventory: z.string().optional(), name: z.string().optional(), mdns: z.boolean().default(true),
    metricsListen: z.string(), metrics: z.boolean().default(true), serviceKeys: z.string().optional(),
  }),
  async handler(input, ctx) {
    const dataDir = input.dataDir ?? upDataDir(ctx.env);
    const { host, port } = parseListen(input.listen);
    // Checked before anything starts, like --listen: a typo must not leave a controller running.
    const metricsListen = input.metrics ? parseListen(input.metricsListen, '--metrics-listen') : undefined;
    const inventory = input.inventory ?? join(dataDir, 'inventory.yaml');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (!existsSync(inventory)) await writeFile(inventory, NEW_INVENTORY, { mode: 0o644 });
    // Loaded here, not at the top: the daemons' dependencies would slow every other command.
    const { startController } = await import('../../../controller/daemon.js');
    const { startAgent } = await import('../../../agent/daemon.js');
    const { createLogger } = await import('../../../util/logger.js');
    const logger = createLogger({ name: 'cistern', level: ctx.env.CISTERN_LOG_LEVEL ?? 'warn' });
    const controller = await startController({ dataDir: join(dataDir, 'controller'), host, port, inventory, logger, ...(input.mdns && { mdns: {} }) });
    const local = `https://127.0.0.1:${new URL(controller.url).port}`;
    if (controller.adminToken) await saveClientConfig(ctx.env, { controller: local, token: controller.adminToken, caPem: controller.caPem });
    else await followMovedController(ctx.env, local, controller.caPem);
    const agentDir = join(dataDir, 'agent');
    const registered = existsSync(join(agentDir, 'credential.json'));
    if (registered) {
      // This machine's agent talks to this very controller: if --listen moved it to another
      // port since the last start, the saved address is stale (the CA, the trust, is the same).
      const { loadCredential, saveCredential } = await import('../../../agent/identity.js');
      const saved = await loadCredential(agentDir);
      if (saved && saved.controllerUrl !== local && saved.caFingerprint === controller.caFingerprint) await saveCredential(agentDir, { ...saved, controllerUrl: local });
    }
    const joinToken = registered ? undefined : controller.core.createJoinToken({ ttlMs: 600_000, uses: 1, group: null, description: 'cistern up: this machine' });
    // A failed agent start (its metrics port taken, say) must not leave the controller running.
    const agent = await startAgent({
      stateDir: agentDir, controllerUrl: local, token: joinToken?.token, caHash: controller.caFingerprint, name: input.name, logger,
      ...(input.mdns && { mdns: {} }), ...(metricsListen && { metricsListen }),
      ...(input.serviceKeys && { serviceKeysFile: resolve(input.serviceKeys) }),
    }).catch(async (error: unknown) => {
      await controller.close();
      throw error;
    });
    // A saved credential carries no name: the controller knows it by the agent id.
    const thisMachine = agent.name ?? controller.core.servers().find((s) => s.agentId === agent.agentId)?.name ?? agent.agentId;
    ctx.stdout.write([
      `Cistern is up.`,
      `  API:        ${controller.url} (CA ${controller.caFingerprint})`,
      `  state:      ${dataDir}`,
      `  inventory:  ${inventory}`,
      `  this machine: ${agent.registered ? `registered as ${agent.name}` : `${thisMachine} (registered before)`}`,
      `  metrics:    ${metricsListen ? `https://${metricsListen.host}:${metricsListen.port}/metrics (this machine's agent; cistern monitoring token)` : 'off (--no-metrics)'}`,
      ...(controller.adminToken ? [`  admin token: ${controller.adminToken} (shown once; saved for the CLI in ~/.config/cistern/)`] : []),
      '',
      'In another terminal: cistern status   (add servers: cistern token create)',
      'Ctrl-C stops.',
      '',
    ].join('\n'));
    const outcome = await Promise.race([untilSignal(), agent.refused]);
    await agent.stop();
    await controller.close();
    return { data: { stopped: typeof outcome === 'string' ? outcome : 'refused' }, text: 'Cistern stopped' };
  },
});
