import { z } from 'zod';
import type { ServerView } from '../../../controller/core.js';
import { defineCommand } from '../../command.js';
import type { FiringAlert } from '../../../controller/alerts.js';
import type { ServiceView } from '../../../controller/services/manager.js';
import { api, renderStatus, renderSummary } from './shared.js';

export const statusCommand = defineCommand({
  path: ['status'],
  summary: 'the fleet at a glance: health, load and services of every server',
  help: 'Then the placed services (primary and its probe state) and the alerts firing now. Colored on a terminal,\nplain when piped. --watch refreshes in place every 2 s (Ctrl-C stops). --json prints the server list.',
  options: [{ flags: '-w, --watch', description: 'refresh in place' }, { flags: '--interval <seconds>', description: 'refresh interval with --watch', default: '2' }],
  input: z.object({ watch: z.boolean().optional(), interval: z.coerce.number().min(0.2).max(3600), json: z.boolean().optional() }),
  async handler(input, ctx) {
    const client = await api(ctx);
    const fetchServers = async () => (await client.get<{ servers: ServerView[] }>('/v1/servers')).servers;
    // Services and alerts are extra lines for people; --json stays the server list.
    const fetchSummary = async () => {
      const [services, alerts] = await Promise.all([
        client.get<{ services: ServiceView[] }>('/v1/services').then((r) => r.services, () => []),
        client.get<{ alerts: FiringAlert[] }>('/v1/alerts').then((r) => r.alerts, () => []),
      ]);
      return renderSummary(services, alerts, ctx);
    };
    if (!input.watch) {
      const servers = await fetchServers();
      return { data: servers, text: `${renderStatus(servers, ctx)}${input.json ? '' : await fetchSummary()}` };
    }
    let stop = false;
    const onSignal = () => { stop = true; };
    process.once('SIGINT', onSignal);
    let servers: ServerView[] = [];
    try {
      while (!stop) {
        servers = await fetchServers();
        // Clear the screen and redraw in place.
        ctx.stdout.write(`\x1b[H\x1b[2J${new Date().toLocaleTimeString()}  cistern status (every ${input.interval}s, Ctrl-C to stop)\n\n${renderStatus(servers, ctx)}${await fetchSummary()}`);
        await new Promise((r) => setTimeout(r, input.interval * 1000));
      }
    } finally {
      process.off('SIGINT', onSignal);
    }
    return { data: servers, text: '' };
  },
});
