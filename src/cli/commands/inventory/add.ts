import { z } from 'zod';
import { CisternError, usageError } from '../../../errors.js';
import { HARDWARE_PROFILES, HARDWARE_TYPES, NAME, ROLES, serverSchema } from '../../../inventory/schema.js';
import { editInventory } from '../../../inventory/store.js';
import { defineCommand } from '../../command.js';
import { fileFrom, fileInput, fileOption, rawServers } from './shared.js';

/** Flag for each server field, so a bad value is reported against the flag the user typed. */
const FLAG_FOR: Record<string, string> = {
  hostname: '--hostname', address: '--address', mac_address: '--mac', role: '--role', location: '--location',
  hardware_type: '--hardware-type', hardware_profile: '--profile', tags: '--tag', services: '--service',
  ssh: '--ssh-user/--ssh-port', notes: '--notes',
};

export const addCommand = defineCommand({
  path: ['inventory', 'add'],
  summary: 'add a server',
  help: [
    'Only --hostname is required; on a terminal, cistern asks for it when it is missing.',
    '',
    'Example:',
    '  cistern inventory add attic-pi --hostname attic-pi.local --role secondary \\',
    '    --hardware-type raspberry-pi --location attic --tag tv --service jellyfin',
  ].join('\n'),
  args: [{ name: 'name', description: 'server name (letters, digits, ., _ and -)' }],
  options: [
    fileOption,
    { flags: '--hostname <host>', description: 'host name or IP address' },
    { flags: '--address <host>', description: 'where Cistern reaches it, when not the host name' },
    { flags: '--mac <mac>', description: 'MAC address, aa:bb:cc:dd:ee:ff' },
    { flags: '--role <role>', description: `one of ${ROLES.join(', ')}` },
    { flags: '--location <where>', description: 'where the box lives' },
    { flags: '--hardware-type <type>', description: `one of ${HARDWARE_TYPES.join(', ')}` },
    { flags: '--profile <profile>', description: `hardware profile: ${HARDWARE_PROFILES.join(', ')}` },
    { flags: '--tag <tag...>', description: 'tags (repeatable)' },
    { flags: '--service <name...>', description: 'services it runs (repeatable)' },
    { flags: '--ssh-user <user>', description: 'SSH user for deploys' },
    { flags: '--ssh-port <port>', description: 'SSH port (default 22)' },
    { flags: '--notes <text>', description: 'free text' },
  ],
  input: z.object({
    ...fileInput,
    name: z.string().regex(NAME, 'letters, digits, ".", "_" and "-", not starting or ending with punctuation'),
    hostname: z.string().optional(),
    address: z.string().optional(),
    mac: z.string().optional(),
    role: z.string().optional(),
    location: z.string().optional(),
    hardwareType: z.string().optional(),
    profile: z.string().optional(),
    tag: z.array(z.string()).optional(),
    service: z.array(z.string()).optional(),
    sshUser: z.string().optional(),
    sshPort: z.coerce.number().int().min(1).max(65535).optional(),
    notes: z.string().optional(),
  }),
  async handler(input, ctx) {
    let hostname = input.hostname;
    if (hostname === undefined) {
      if (!ctx.interactive) throw usageError('--hostname is required', 'pass --hostname HOST (cistern only asks on a terminal)');
      hostname = await ctx.prompt(`hostname of ${input.name}: `);
      if (hostname === '') throw usageError('a hostname is required');
    }
    const ssh = input.sshUser !== undefined || input.sshPort !== undefined
      ? { ...(input.sshUser !== undefined && { user: input.sshUser }), ...(input.sshPort !== undefined && { port: input.sshPort }) }
      : undefined;
    const entry = Object.fromEntries(Object.entries({
      hostname, address: input.address, mac_address: input.mac, role: input.role, location: input.location,
      hardware_type: input.hardwareType, hardware_profile: input.profile, tags: input.tag, services: input.service, ssh, notes: input.notes,
    }).filter(([, v]) => v !== undefined));
    const checked = serverSchema.safeParse(entry);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const field = String(issue?.path[0] ?? '');
      throw usageError(`${FLAG_FOR[field] ?? field}: expected ${issue?.message ?? 'a valid value'}`);
    }
    const file = fileFrom(input, ctx);
    await editInventory(file, (data) => {
      const servers = rawServers(data);
      if (Object.hasOwn(servers, input.name)) {
        throw new CisternError('E_SERVER_EXISTS', `server "${input.name}" already exists in ${file}`, { hint: 'use `cistern inventory set` to change it' });
      }
      servers[input.name] = entry;
    });
    return { data: { file, server: input.name, added: entry }, text: `added server ${input.name} to ${file}` };
  },
});
