import { join, resolve } from 'node:path';
import { z } from 'zod';
import { usageError } from '../../../errors.js';
import { defineCommand } from '../../command.js';
import { untilSignal } from './signals.js';
import { parseListen } from './controller.js';
import { AGENT_PORT } from '../../../discovery/records.js';

export function defaultAgentDir(env: NodeJS.ProcessEnv): string {
  if (env.CISTERN_AGENT_DIR) return env.CISTERN_AGENT_DIR;
  if (process.getuid?.() === 0) return '/var/lib/cistern-agent';
  return join(env.XDG_DATA_HOME ?? join(env.HOME ?? '.', '.local', 'share'), 'cistern', 'agent');
}

export const agentCommand = defineCommand({
  path: ['agent'],
  summary: 'run the agent on a media server',
  help: [
    'A new box joins in one of three ways, once; later starts need no flags:',
    '  join token:        --controller URL --token cst_… --ca-hash sha256:…  (printed by `cistern token create`)',
    '  provisioning key:  --provisioning-key cpk_…  (from `cistern token create --provisioning`, for install',
    '                     images): finds the controller by mDNS, checks its CA against the key, registers',
    '  discoverable:      --discoverable: finds the controller by mDNS (or --controller), trusts its CA on',
    '                     first use, prints this box\'s key fingerprint and waits for `cistern discover approve`',
    'The credential is saved (0600) in --state-dir. The agent advertises itself on the local network as',
    '_cistern._tcp (--no-mdns turns that off) and keeps one outbound connection to the controller, so it',
    'works behind NAT.',
    `It serves its metrics at https://THIS-BOX:${AGENT_PORT}/metrics (--metrics-listen, --no-metrics) to Prometheus, with a`,
    'certificate and the scrape token\'s hash from the controller (`cistern monitoring --help`).',
    'Status probes: for a service with an authenticated status probe, the agent uses the key in --service-keys',
    'FILE (YAML or JSON, `sonarr: { key: … }` or `transmission: { user: …, password: … }`, mode 0600: a file',
    'others may read is refused), else the key the app keeps in its own config file (Sonarr, Radarr and',
    'Prowlarr config.xml, Bazarr config/config.yaml, SABnzbd sabnzbd.ini). Jellyfin and Transmission keep',
    'none the agent can read: give theirs in the file. Keys are never logged or sent to the controller.',
  ].join('\n'),
  json: false,
  options: [
    { flags: '--controller <url>', description: 'controller URL, e.g. https://192.168.1.5:7443' },
    { flags: '--token <token>', description: 'join token (first start only)' },
    { flags: '--ca-hash <sha256:hex>', description: 'fingerprint of the controller\'s CA (first start only)' },
    { flags: '--provisioning-key <key>', description: 'provisioning key baked into the install image (first start only)' },
    { flags: '--discoverable', description: 'no key: wait to be approved with `cistern discover approve` (first start only)' },
    { flags: '--name <name>', description: 'server name to register as (default: the host name)' },
    { flags: '--state-dir <dir>', description: 'agent state (default /var/lib/cistern-agent as root, else ~/.local/share/cistern/agent)' },
    { flags: '--no-mdns', description: 'do not advertise on the local network or look for the controller there' },
    { flags: '--mdns-interface <address>', description: 'the interface address mDNS uses (default: the first non-loopback IPv4)' },
    { flags: '--service-driver <driver>', description: 'how supervised services are started and stopped: systemd or process (default: systemd when the box runs it)' },
    { flags: '--metrics-listen <host:port>', description: 'where /metrics is served over HTTPS, for Prometheus', default: `0.0.0.0:${AGENT_PORT}` },
    { flags: '--no-metrics', description: 'serve no /metrics' },
    { flags: '--service-keys <file>', description: 'API keys (or user and password) of the services, for their status probes; mode 0600' },
  ],
  input: z.object({
    controller: z.url().optional(), token: z.string().optional(), caHash: z.string().optional(), provisioningKey: z.string().optional(),
    discoverable: z.boolean().default(false), name: z.string().optional(), stateDir: z.string().optional(),
    mdns: z.boolean().default(true), mdnsInterface: z.ipv4().optional(),
    serviceDriver: z.enum(['systemd', 'process'], { error: '--service-driver is systemd or process' }).optional(),
    metricsListen: z.string(), metrics: z.boolean().default(true), serviceKeys: z.string().optional(),
  }),
  async handler(input, ctx) {
    if (input.provisioningKey && (input.token || input.caHash)) throw usageError('--provisioning-key replaces --token and --ca-hash: give one or the other');
    if (input.discoverable && (input.token || input.caHash || input.provisioningKey)) throw usageError('--discoverable is for a box without a key: drop --token, --ca-hash and --provisioning-key');
    const metricsListen = input.metrics ? parseListen(input.metricsListen, '--metrics-listen') : undefined;
    // Loaded here, not at the top: the daemon's dependencies would slow every other command.
    const { startAgent } = await import('../../../agent/daemon.js');
    const { createLogger } = await import('../../../util/logger.js');
    const logger = createLogger({ name: 'cistern-agent' });
    // A signal while the agent still waits (for the controller, for approval) ends the wait.
    const stopping = new AbortController();
    const signal = untilSignal().then((s) => { stopping.abort(); return s; });
    let agent: Awaited<ReturnType<typeof startAgent>>;
    try {
      agent = await startAgent({
        stateDir: input.stateDir ?? defaultAgentDir(ctx.env), controllerUrl: input.controller, token: input.token, caHash: input.caHash,
        provisioningKey: input.provisioningKey, discoverable: input.discoverable, name: input.name, logger,
        ...(input.mdns && { mdns: { ...(input.mdnsInterface && { interface: input.mdnsInterface }) } }),
        ...(metricsListen && { metricsListen }),
        status: (line) => ctx.stdout.write(`${line}\n`), signal: stopping.signal,
        ...(input.serviceDriver && { serviceDriver: input.serviceDriver }),
        ...(input.serviceKeys && { serviceKeysFile: resolve(input.serviceKeys) }),
      });
    } catch (error) {
      if (stopping.signal.aborted) return { data: { stopped: await signal }, text: 'agent stopped' };
      throw error;
    }
    ctx.stdout.write(agent.registered ? `registered as ${agent.name ?? agent.agentId}\n` : `agent ${agent.agentId} starting\n`);
    const outcome = await Promise.race([signal.then((s) => ({ signal: s })), agent.refused.then((error) => ({ error }))]);
    await agent.stop();
    if ('error' in outcome) throw outcome.error;
    return { data: { stopped: outcome.signal }, text: 'agent stopped' };
  },
});
