import { z } from 'zod';
import { usageError } from '../../../errors.js';
import { parseDuration } from '../../../util/duration.js';
import { saveClientConfig } from '../../client/config.js';
import { defineCommand } from '../../command.js';
import { untilSignal } from './signals.js';

export function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw usageError(`${flag}: "${text}" is not HOST:PORT`, 'for example 0.0.0.0:7443 or 127.0.0.1:7443');
  return { host: match[1] || match[2] || '0.0.0.0', port };
}

const duration = (flag: string) => z.string().optional().transform((t, c) => {
  if (t === undefined) return undefined;
  const ms = parseDuration(t);
  if (ms === undefined || ms <= 0) c.addIssue({ code: 'custom', message: `${flag}: "${t}" is not a duration like 5s` });
  return ms;
});

export const controllerCommand = defineCommand({
  path: ['controller'],
  summary: 'run the controller: the fleet\'s state, API and decisions',
  help: [
    'State lives in --data-dir (default /var/lib/cistern as root, else ~/.local/share/cistern,',
    'or $CISTERN_DATA_DIR): an SQLite database, the certificate authority and its keys.',
    'On first start it prints the admin token once and saves it for the CLI in ~/.config/cistern/.',
    'It advertises itself on the local network as _cistern-controller._tcp (with its CA fingerprint)',
    'and lists the agents it sees there in `cistern discover`; --no-mdns turns both off.',
    'Stop with SIGTERM or Ctrl-C: in-flight requests and inventory writes finish first.',
  ].join('\n'),
  json: false,
  options: [
    { flags: '--data-dir <dir>', description: 'state directory' },
    { flags: '--listen <host:port>', description: 'where the HTTPS API listens', default: '0.0.0.0:7443' },
    { flags: '--public-url <url>', description: 'the URL agents use (default: this machine\'s address)' },
    { flags: '--inventory <file>', description: 'inventory.yaml to keep true (default $CISTERN_INVENTORY)' },
    { flags: '--heartbeat-interval <duration>', description: 'agent heartbeat interval', default: '5s' },
    { flags: '--ttl <duration>', description: 'no heartbeat for this long: unreachable', default: '15s' },
    { flags: '--down-after <duration>', description: 'no heartbeat for this long: down', default: '5m' },
    { flags: '--no-mdns', description: 'do not advertise on or browse the local network (mDNS)' },
    { flags: '--mdns-interface <address>', description: 'the interface address mDNS uses (default: the first non-loopback IPv4)' },
  ],
  input: z.object({
    dataDir: z.string().optional(),
    listen: z.string(),
    publicUrl: z.url().optional(),
    inventory: z.string().optional(),
    heartbeatInterval: duration('--heartbeat-interval'),
    ttl: duration('--ttl'),
    downAfter: duration('--down-after'),
    mdns: z.boolean().default(true),
    mdnsInterface: z.ipv4().optional(),
  }),
  async handler(input, ctx) {
    const { host, port } = parseListen(input.listen);
    // Loaded here, not at the top: the daemon's dependencies would slow every other command.
    const { defaultDataDir, startController } = await import('../../../controller/daemon.js');
    const { createLogger } = await import('../../../util/logger.js');
    const logger = createLogger({ name: 'cistern-controller' });
    const running = await startController({
      dataDir: input.dataDir ?? defaultDataDir(ctx.env), host, port, publicUrl: input.publicUrl,
      inventory: input.inventory ?? ctx.env.CISTERN_INVENTORY, logger,
      ...(input.mdns && { mdns: { ...(input.mdnsInterface && { interface: input.mdnsInterface }) } }),
      health: { ...(input.heartbeatInterval && { intervalMs: input.heartbeatInterval }), ...(input.ttl && { ttlMs: input.ttl }), ...(input.downAfter && { downAfterMs: input.downAfter }) },
    });
    ctx.stdout.write(`controller listening at ${running.url}\nCA fingerprint: ${running.caFingerprint}\n`);
    if (running.adminToken) {
      const file = await saveClientConfig(ctx.env, { controller: running.url, token: running.adminToken, caPem: running.caPem });
      ctx.stdout.write(`admin token (shown once; saved for the CLI in ${file}):\n  ${running.adminToken}\n`);
    }
    ctx.stdout.write('add a server: cistern token create\n');
    const signal = await untilSignal();
    logger.info({ signal }, 'shutting down');
    await running.close();
    return { data: { stopped: signal }, text: 'controller stopped' };
  },
});
