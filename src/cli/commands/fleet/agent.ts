import { join } from 'node:path';
import { z } from 'zod';
import { defineCommand } from '../../command.js';
import { untilSignal } from './signals.js';

export function defaultAgentDir(env: NodeJS.ProcessEnv): string {
  if (env.CISTERN_AGENT_DIR) return env.CISTERN_AGENT_DIR;
  if (process.getuid?.() === 0) return '/var/lib/cistern-agent';
  return join(env.XDG_DATA_HOME ?? join(env.HOME ?? '.', '.local', 'share'), 'cistern', 'agent');
}

export const agentCommand = defineCommand({
  path: ['agent'],
  summary: 'run the agent on a media server',
  help: [
    'First start: use the command `cistern token create` printed, with --controller, --token and',
    '--ca-hash. The agent checks the controller\'s CA against --ca-hash before sending anything,',
    'registers, and saves its own credential (0600) in --state-dir; later starts need no flags.',
    'It keeps one outbound connection to the controller, so it works behind NAT.',
  ].join('\n'),
  json: false,
  options: [
    { flags: '--controller <url>', description: 'controller URL, e.g. https://192.168.1.5:7443' },
    { flags: '--token <token>', description: 'join token (first start only)' },
    { flags: '--ca-hash <sha256:hex>', description: 'fingerprint of the controller\'s CA (first start only)' },
    { flags: '--name <name>', description: 'server name to register as (default: the host name)' },
    { flags: '--state-dir <dir>', description: 'agent state (default /var/lib/cistern-agent as root, else ~/.local/share/cistern/agent)' },
  ],
  input: z.object({ controller: z.url().optional(), token: z.string().optional(), caHash: z.string().optional(), name: z.string().optional(), stateDir: z.string().optional() }),
  async handler(input, ctx) {
    // Loaded here, not at the top: the daemon's dependencies would slow every other command.
    const { startAgent } = await import('../../../agent/daemon.js');
    const { createLogger } = await import('../../../util/logger.js');
    const logger = createLogger({ name: 'cistern-agent' });
    const agent = await startAgent({
      stateDir: input.stateDir ?? defaultAgentDir(ctx.env), controllerUrl: input.controller, token: input.token, caHash: input.caHash, name: input.name, logger,
    });
    ctx.stdout.write(agent.registered ? `registered as ${agent.name ?? agent.agentId}\n` : `agent ${agent.agentId} starting\n`);
    const outcome = await Promise.race([untilSignal().then((signal) => ({ signal })), agent.refused.then((error) => ({ error }))]);
    await agent.stop();
    if ('error' in outcome) throw outcome.error;
    return { data: { stopped: outcome.signal }, text: 'agent stopped' };
  },
});
