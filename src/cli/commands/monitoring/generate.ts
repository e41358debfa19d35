import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { CisternError } from '../../../errors.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { DEFAULT_NOTIFICATIONS_FROM, promDuration } from '../../../monitoring/config-schema.js';
import { FILES } from '../../../monitoring/prometheus-config.js';
import { whoNotifies } from '../../../monitoring/shared-alerts.js';
import { writeFileAtomic } from '../../../util/atomic-write.js';
import { defineCommand } from '../../command.js';
import { api } from '../fleet/shared.js';
import { fileFrom, fileInput, fileOption } from '../inventory/shared.js';

interface Setup { controllerUrl: string; caPem: string; agentsCaPem: string; scrapeToken: boolean }

export const monitoringGenerateCommand = defineCommand({
  path: ['monitoring', 'generate'],
  summary: 'write prometheus.yml, alert rules with their tests, and alertmanager.yml',
  help: [
    'Example: cistern monitoring generate --out /etc/cistern-monitoring --issue-token',
    'Reads the inventory\'s monitoring section (thresholds, receivers, routes) and asks the controller for',
    'its URL and CA certificates. Targets are not written: Prometheus asks the controller for them.',
    'No secret is written, except the scrape token with --issue-token (secrets/scrape-token, 0600); the',
    'receivers\' secrets stay in the files the inventory names, which README.md in DIR lists.',
    'ServerDown, ServiceDown and FailoverHappened are problems the controller notifies by itself too:',
    'monitoring.notifications_from (controller, the default; alertmanager; both) says who tells the receivers;',
    'with controller, alertmanager.yml routes them to a receiver that sends nothing (docs/notifications.md).',
    '--alert-for replaces every alert\'s `for:` duration: for trying alerts out, not for daily use.',
  ].join('\n'),
  options: [
    { flags: '--out <dir>', description: 'the folder to write (made if missing; generated files are replaced)' },
    fileOption,
    { flags: '--issue-token', description: 'make a new scrape token (the old one stops working) and write it to secrets/scrape-token' },
    { flags: '--controller-url <url>', description: 'the controller URL Prometheus uses (default: the one agents use)' },
    { flags: '--alert-for <duration>', description: 'use this `for:` in every alert rule, e.g. 10s' },
  ],
  input: z.object({
    out: z.string({ error: 'give the folder to write, e.g. --out ./monitoring' }),
    ...fileInput,
    issueToken: z.boolean().default(false),
    controllerUrl: z.url({ protocol: /^https$/, error: 'an https:// URL' }).optional(),
    alertFor: promDuration.optional(),
  }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const client = await api(ctx);
    const setup = await client.get<Setup>('/v1/monitoring/setup');
    const scrapeToken = input.issueToken ? (await client.post<{ token: string }>('/v1/monitoring/scrape-token', {})).token : undefined;
    // Loaded here: the Grafana SDK is 230 CommonJS files, too slow to load for every command.
    const { generateMonitoring } = await import('../../../monitoring/generate.js');
    const generated = generateMonitoring({
      inventory: analysis.inventory, controllerUrl: input.controllerUrl ?? setup.controllerUrl, caPem: setup.caPem, agentsCaPem: setup.agentsCaPem,
      alertFor: input.alertFor, scrapeToken,
    });
    const out = resolve(ctx.cwd, input.out);
    for (const file of generated.files) {
      const path = join(out, file.path);
      try {
        await mkdir(dirname(path), { recursive: true, mode: file.path.startsWith('secrets/') ? 0o700 : 0o755 });
        await writeFileAtomic(path, file.content, { mode: file.mode });
      } catch (error) {
        throw new CisternError('E_FILE_WRITE', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error, hint: 'check the folder given to --out and its permissions' });
      }
    }
    const warnings = [...generated.warnings];
    if (!scrapeToken && !setup.scrapeToken) warnings.push(`the controller has no scrape token yet: run again with --issue-token, or \`cistern monitoring token --out ${join(out, FILES.scrapeToken)}\``);
    const notificationsFrom = analysis.inventory.monitoring?.notifications_from ?? DEFAULT_NOTIFICATIONS_FROM;
    const fill = [...(scrapeToken ? [] : [FILES.scrapeToken]), ...generated.secrets.map((s) => s.path)];
    const text = [
      `wrote ${generated.files.length} files to ${out}:`,
      ...generated.files.map((f) => `  ${f.path}`),
      `alerts ${whoNotifies(notificationsFrom)}`,
      ...(fill.length > 0 ? ['files to fill (secrets; see README.md):', ...fill.map((f) => `  ${f}`)] : []),
      ...warnings.map((w) => `warning: ${w}`),
      `check: cd ${out} && promtool check config ${FILES.prometheus} && promtool test rules ${FILES.ruleTests} && amtool check-config ${FILES.alertmanager}`,
    ].join('\n');
    return { data: { dir: out, files: generated.files.map((f) => f.path), secrets: generated.secrets, scrapeTokenIssued: scrapeToken !== undefined, notificationsFrom, warnings }, text };
  },
});
