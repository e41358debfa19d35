import { resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../../util/atomic-write.js';
import { defineCommand } from '../../command.js';
import { api } from '../fleet/shared.js';

export const monitoringTokenCommand = defineCommand({
  path: ['monitoring', 'token'],
  summary: 'make the fleet\'s scrape token for Prometheus (the previous one stops working)',
  help: [
    'Prometheus sends the scrape token to the controller\'s /metrics and service discovery and to every',
    'agent\'s /metrics. There is one per fleet: making a new one revokes the old one at once, on the',
    'controller and on every connected agent. With --out it is written to FILE (0600) and not printed:',
    'point Prometheus\' credentials_file at it, as the generated prometheus.yml does (secrets/scrape-token).',
  ].join('\n'),
  options: [{ flags: '--out <file>', description: 'write the token to FILE (mode 0600) instead of printing it' }],
  input: z.object({ out: z.string().optional() }),
  async handler(input, ctx) {
    const { token } = await (await api(ctx)).post<{ token: string }>('/v1/monitoring/scrape-token', {});
    if (input.out === undefined) return { data: { token }, text: `scrape token (shown once; the previous one no longer works):\n  ${token}\n` };
    const file = resolve(ctx.cwd, input.out);
    await writeFileAtomic(file, `${token}\n`, { mode: 0o600 });
    return { data: { file }, text: `scrape token written to ${file}; the previous one no longer works\n` };
  },
});
