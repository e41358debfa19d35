import { z } from 'zod';
import type { ServerView } from '../../../controller/core.js';
import type { FleetEvent } from '../../../controller/events.js';
import { parseSelector, selectorMatches } from '../../../inventory/selector.js';
import { defineCommand } from '../../command.js';
import { api } from './shared.js';

export function formatEvent(e: FleetEvent): string {
  const data = Object.entries(e.data).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return `${new Date(e.at).toISOString()}  ${(e.server ?? '-').padEnd(14)} ${e.kind.padEnd(20)} ${data}`;
}

export const eventsCommand = defineCommand({
  path: ['events'],
  summary: 'fleet events: health transitions, registrations, tokens',
  help: 'Examples:\n  cistern events --follow\n  cistern events --on "health=unreachable" --json',
  options: [
    { flags: '-f, --follow', description: 'keep printing new events as they happen (Ctrl-C stops)' },
    { flags: '--on <selector>', description: 'only events of servers matching SELECTOR (names, health=, profile=)' },
    { flags: '--limit <n>', description: 'how many of the latest events', default: '100' },
  ],
  input: z.object({ follow: z.boolean().optional(), on: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000) }),
  async handler(input, ctx) {
    const client = await api(ctx);
    const selector = input.on === undefined ? undefined : parseSelector(input.on);
    let keep = (_e: FleetEvent) => true;
    if (selector) {
      const { servers } = await client.get<{ servers: ServerView[] }>('/v1/servers');
      const picked = new Set(servers.filter((s) => selectorMatches(selector, {
        name: s.name, tags: [], groups: new Set(), labels: {},
        fields: { health: s.health, profile: s.profile, ...(s.hostname && { hostname: s.hostname }), ...(s.address && { address: s.address }) },
      })).map((s) => s.name));
      keep = (e) => e.server !== null && picked.has(e.server);
    }
    const first = await client.get<{ events: FleetEvent[]; last: number }>(`/v1/events?limit=${input.limit}`);
    const shown = first.events.filter(keep);
    if (!input.follow) return { data: shown, text: shown.map(formatEvent).join('\n') || 'no events' };
    for (const e of shown) ctx.stdout.write(`${formatEvent(e)}\n`);
    let last = first.last;
    let stop = false;
    process.once('SIGINT', () => { stop = true; });
    while (!stop) {
      const page = await client.get<{ events: FleetEvent[]; last: number }>(`/v1/events?after=${last}&wait=25000&limit=1000`, { timeoutMs: 35_000 });
      last = page.last;
      for (const e of page.events.filter(keep)) ctx.stdout.write(`${formatEvent(e)}\n`);
    }
    return { data: [], text: '' };
  },
});
