import { z } from 'zod';
import type { ServerView } from '../../../controller/core.js';
import { defineCommand } from '../../command.js';
import { api, renderStatus } from './shared.js';

export const statusCommand = defineCommand({
  path: ['status'],
  summary: 'the fleet at a glance: health, load and services of every server',
  help: 'Colored on a terminal, plain when piped. --watch refreshes in place every 2 s (Ctrl-C stops).',
  options: [{ flags: '-w, --watch', description: 'refresh in place' }, { flags: '--interval <seconds>', description: 'refresh interval with --watch', default: '2' }],
  input: z.object({ watch: z.boolean().optional(), interval: z.coerce.number().min(0.2).max(3600) }),
  async handler(input, ctx) {
    const client = await api(ctx);
    const fetchServers = async () => (await client.get<{ servers: ServerView[] }>('/v1/servers')).servers;
    if (!input.watch) {
      const servers = await fetchServers();
      return { data: servers, text: renderStatus(servers, ctx) };
    }
    let stop = false;
    const onSignal = () => { stop = true; };
    process.once('SIGINT', onSignal);
    let servers: ServerView[] = [];
    try {
      while (!stop) {
        servers = await fetchServers();
        // Clear the screen and redraw in place.
        ctx.stdout.write(`\x1b[H\x1b[2J${new Date().toLocaleTimeString()}  cistern status (every ${input.interval}s, Ctrl-C to stop)\n\n${renderStatus(servers, ctx)}`);
        await new Promise((r) => setTimeout(r, input.interval * 1000));
      }
    } finally {
      process.off('SIGINT', onSignal);
    }
    return { data: servers, text: '' };
  },
});
