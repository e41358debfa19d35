import { z } from 'zod';
import type { DiscoveredBox } from '../../../controller/discovered.js';
import type { Approved } from '../../../controller/discovery.js';
import { shortFingerprint } from '../../../discovery/records.js';
import { usageError } from '../../../errors.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { ago, api } from './shared.js';

export const discoverCommand = defineCommand({
  path: ['discover'],
  summary: 'boxes found on the network, or waiting for approval, that are not in the fleet yet',
  help: [
    'The controller browses the local network (mDNS) for agents and lists those not registered.',
    'APPROVABLE boxes were started with `cistern agent --discoverable` and hold a connection: compare',
    'the KEY shown here with the one the box printed, then `cistern discover approve NAME`,',
    'or `cistern discover reject NAME` to turn it away.',
  ].join('\n'),
  input: z.object({}),
  async handler(_input, ctx) {
    const { boxes } = await (await api(ctx)).get<{ boxes: DiscoveredBox[] }>('/v1/discovered');
    const now = Date.now();
    const text = boxes.length === 0 ? 'no pending boxes\n' : table(['NAME', 'ADDRESS', 'KEY', 'PROFILE', 'HARDWARE', 'VERSION', 'APPROVABLE', 'SEEN'],
      boxes.map((b) => [b.name, b.address ?? '-', shortFingerprint(b.fingerprint), b.profile || '-', b.hardware || '-', b.version || '-', b.approvable ? 'yes' : 'no (not --discoverable)', ago(new Date(b.lastSeen).toISOString(), now)]));
    return { data: boxes, text };
  },
});

export const discoverApproveCommand = defineCommand({
  path: ['discover', 'approve'],
  summary: 'admit pending boxes into the fleet: each receives its credential over the connection it holds',
  help: [
    'Name boxes by NAME or by the first 4+ hex digits of their KEY (as `cistern discover` shows it).',
    'Every name is checked before any box is admitted. Example: cistern discover approve attic-pi --group family',
  ].join('\n'),
  args: [{ name: 'names', description: 'boxes to approve', variadic: true, required: false }],
  options: [
    { flags: '--all', description: 'approve every box that waits for approval' },
    { flags: '--group <group>', description: 'group the new servers join' },
  ],
  input: z.object({ names: z.array(z.string()).default([]), all: z.boolean().default(false), group: z.string().optional() }),
  async handler(input, ctx) {
    if (input.all === (input.names.length > 0)) throw usageError('name the boxes to approve, or give --all (not both)', 'cistern discover lists them');
    const body = input.all ? { all: true, group: input.group } : { names: input.names, group: input.group };
    const { approved } = await (await api(ctx)).post<{ approved: Approved[] }>('/v1/discovered/approve', body);
    const text = approved.length === 0 ? 'no box was waiting for approval\n' : approved.map((a) => `approved ${a.name} (key ${shortFingerprint(a.fingerprint)})\n`).join('');
    return { data: approved, text };
  },
});
