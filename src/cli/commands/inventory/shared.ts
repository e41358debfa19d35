/** Options and helpers shared by the `cistern inventory` commands. */
import { z } from 'zod';
import { CisternError } from '../../../errors.js';
import type { Analysis } from '../../../inventory/analyze.js';
import { serverEntries } from '../../../inventory/groups.js';
import type { Server } from '../../../inventory/schema.js';
import { inventoryPath } from '../../../inventory/store.js';
import { didYouMean } from '../../../util/suggest.js';
import type { OptionDef } from '../../command.js';
import type { CommandContext } from '../../context.js';

export const fileOption: OptionDef = {
  flags: '-f, --file <path>',
  description: 'inventory file (default: $CISTERN_INVENTORY, else ./inventory.yaml)',
};

export const onOption: OptionDef = {
  flags: '--on <selector>',
  description: 'only servers matching SELECTOR (see `cistern inventory --help`)',
};

export const fileInput = { file: z.string().optional() };

export function fileFrom(input: { file?: string | undefined }, ctx: CommandContext): string {
  return inventoryPath(input.file, ctx.env, ctx.cwd);
}

export function requireServer(analysis: Analysis, name: string): Server {
  const server = analysis.inventory.servers?.[name];
  if (!server) {
    const names = serverEntries(analysis.inventory).map(([n]) => n);
    throw new CisternError('E_SERVER_NOT_FOUND', `no server named "${name}" in ${analysis.file}`, {
      hint: didYouMean(name, names) ?? (names.length ? `servers: ${names.slice(0, 10).join(', ')}` : 'the inventory has no servers'),
    });
  }
  return server;
}

/** The servers map of raw inventory data, created if absent. */
export function rawServers(data: Record<string, unknown>): Record<string, Record<string, unknown>> {
  if (data.servers === null || data.servers === undefined || typeof data.servers !== 'object') data.servers = {};
  return data.servers as Record<string, Record<string, unknown>>;
}
