/**
 * Saying no to a box that waits in `cistern discover`: `reject` turns it away and remembers its
 * key, `rejected` lists what was turned away, and `unreject` undoes a mistake.
 */
import { z } from 'zod';
import type { RejectedBox } from '../../../controller/ports.js';
import { shortFingerprint } from '../../../discovery/records.js';
import { usageError } from '../../../errors.js';
import { defineCommand } from '../../command.js';
import { table } from '../../table.js';
import { ago, api } from './shared.js';

export const discoverRejectCommand = defineCommand({
  path: ['discover', 'reject'],
  summary: 'turn pending boxes away: each is told so and stops waiting, and its key is refused from now on',
  help: [
    'Name boxes by NAME or by the first 4+ hex digits of their KEY (as `cistern discover` shows it);',
    '--all rejects every box `cistern discover` lists. Every name is checked before any box is rejected.',
    'A rejected box is refused at once when it comes back, and is not listed again, even when seen on the',
    'network. Rejection only concerns discovery: a join token or provisioning key still admits the box.',
    'Example: cistern discover reject stranger-pi',
    'Undo with: cistern discover unreject NAME|KEY (`cistern discover rejected` lists them).',
  ].join('\n'),
  args: [{ name: 'names', description: 'boxes to reject', variadic: true, required: false }],
  options: [{ flags: '--all', description: 'reject every box that is listed by `cistern discover`' }],
  input: z.object({ names: z.array(z.string()).default([]), all: z.boolean().default(false) }),
  async handler(input, ctx) {
    if (input.all === (input.names.length > 0)) throw usageError('name the boxes to reject, or give --all (not both)', 'cistern discover lists them');
    const body = input.all ? { all: true } : { names: input.names };
    const { rejected } = await (await api(ctx)).post<{ rejected: RejectedBox[] }>('/v1/discovered/reject', body);
    const text = rejected.length === 0 ? 'no box was pending\n' : rejected.map((r) => `rejected ${r.name} (key ${shortFingerprint(r.fingerprint)})\n`).join('');
    return { data: rejected, text };
  },
});

export const discoverRejectedCommand = defineCommand({
  path: ['discover', 'rejected'],
  summary: 'boxes rejected with `cistern discover reject`: their key, name and when',
  help: 'KEY is the short form `cistern discover` shows; `--json` gives the whole fingerprint.\nExample: cistern discover rejected',
  input: z.object({}),
  async handler(_input, ctx) {
    const { rejected } = await (await api(ctx)).get<{ rejected: RejectedBox[] }>('/v1/discovered/rejected');
    const now = Date.now();
    const text = rejected.length === 0 ? 'no rejected boxes\n' : table(['KEY', 'NAME', 'ADDRESS', 'REJECTED'],
      rejected.map((r) => [shortFingerprint(r.fingerprint), r.name, r.address ?? '-', ago(new Date(r.rejectedAt).toISOString(), now)]));
    return { data: rejected, text };
  },
});

export const discoverUnrejectCommand = defineCommand({
  path: ['discover', 'unreject'],
  summary: 'forget a rejection, so the box may wait for approval again',
  help: [
    'Name the box by its key fingerprint (whole, or the first 4+ hex digits, as `cistern discover rejected`',
    'shows it) or by the name it was rejected under. The box is not restarted: start its agent again.',
    'Example: cistern discover unreject 3f2a-91bc-0d44-7e19',
  ].join('\n'),
  args: [{ name: 'box', description: 'FINGERPRINT or NAME of a rejected box', required: true }],
  input: z.object({ box: z.string().min(1) }),
  async handler(input, ctx) {
    const { unrejected } = await (await api(ctx)).post<{ unrejected: RejectedBox }>('/v1/discovered/unreject', { box: input.box });
    return { data: unrejected, text: `unrejected ${unrejected.name} (key ${shortFingerprint(unrejected.fingerprint)}): it may wait for approval again\n` };
  },
});
