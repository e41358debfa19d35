import { z } from 'zod';
import { selectServers } from '../../../inventory/groups.js';
import type { Server } from '../../../inventory/schema.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { defineCommand } from '../../command.js';
import { paint, type CommandContext, type Style } from '../../context.js';
import { table } from '../../table.js';
import { fileFrom, fileInput, fileOption, onOption } from './shared.js';

export interface ServerRow {
  name: string;
  hostname: string;
  address: string;
  role: string | null;
  location: string | null;
  hardware: string;
  tags: string[];
  services: string[];
  health: string;
  last_seen: string | null;
}

const HEALTH_STYLE: Record<string, Style> = { healthy: 'green', degraded: 'yellow', unreachable: 'red', down: 'red', unknown: 'dim' };

export function serverRow(name: string, server: Server): ServerRow {
  return {
    name,
    hostname: server.hostname,
    address: server.address ?? server.hostname,
    role: server.role ?? null,
    location: server.location ?? null,
    hardware: server.hardware_profile && server.hardware_profile !== 'auto' ? server.hardware_profile : (server.hardware_type ?? 'auto'),
    tags: server.tags ?? [],
    services: server.services ?? [],
    health: server.status?.health ?? 'unknown',
    last_seen: server.status?.last_seen ?? null,
  };
}

export function renderServers(rows: readonly ServerRow[], ctx: Pick<CommandContext, 'color'>): string {
  if (rows.length === 0) return 'no servers match\n';
  return table(
    ['NAME', 'ADDRESS', 'ROLE', 'LOCATION', 'HARDWARE', 'HEALTH', 'TAGS', 'SERVICES'],
    rows.map((r) => [
      r.name, r.address, r.role ?? '-', r.location ?? '-', r.hardware,
      paint(ctx, HEALTH_STYLE[r.health] ?? 'reset', r.health),
      r.tags.join(',') || '-', r.services.join(',') || '-',
    ]),
  );
}

export const listCommand = defineCommand({
  path: ['inventory', 'list'],
  summary: 'list servers, with their health',
  help: 'Examples:\n  cistern inventory list\n  cistern inventory list --on "tag:tv,!location=attic" --json',
  options: [fileOption, onOption],
  input: z.object({ ...fileInput, on: z.string().optional() }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const names = selectServers(analysis.inventory, input.on);
    const rows = names.map((name) => serverRow(name, analysis.inventory.servers?.[name] as Server));
    return { data: rows, text: renderServers(rows, ctx) };
  },
});
