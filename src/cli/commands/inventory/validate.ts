import { z } from 'zod';
import type { Analysis } from '../../../inventory/analyze.js';
import { checkConnectivity, type CheckResult, type ConnectivityResult } from '../../../inventory/connectivity.js';
import { formatFinding, type Finding } from '../../../inventory/findings.js';
import { selectServers } from '../../../inventory/groups.js';
import { editInventory, loadInventory } from '../../../inventory/store.js';
import { parseDuration } from '../../../util/duration.js';
import { defineCommand } from '../../command.js';
import { paint, type CommandContext } from '../../context.js';
import { table } from '../../table.js';
import { fileFrom, fileInput, fileOption, onOption, rawServers } from './shared.js';

function summary(analysis: Analysis): string {
  const errors = analysis.findings.filter((f) => f.severity === 'error').length;
  const warnings = analysis.findings.length - errors;
  const servers = Object.keys(analysis.inventory.servers ?? {}).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return errors === 0
    ? `${analysis.file} is valid: ${plural(servers, 'server')}, ${plural(warnings, 'warning')}`
    : `${analysis.file}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

function renderFinding(f: Finding, ctx: CommandContext): string {
  const text = formatFinding(f);
  return f.severity === 'error' ? text.replace(' error ', ` ${paint(ctx, 'red', 'error')} `) : text.replace(' warning ', ` ${paint(ctx, 'yellow', 'warning')} `);
}

function renderConnectivity(results: readonly ConnectivityResult[], ctx: CommandContext): string {
  const mark = (check: CheckResult) => (check.ok ? paint(ctx, 'green', 'ok') : check.skipped ? paint(ctx, 'dim', 'skipped') : paint(ctx, 'red', `FAIL ${check.detail}`));
  const hostPort = (r: ConnectivityResult) => (r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`);
  return table(
    ['SERVER', 'ADDRESS', 'RESOLVE', 'TCP', 'SSH', 'RTT'],
    results.map((r) => [
      r.name, hostPort(r), mark(r.checks.resolve), mark(r.checks.tcp),
      r.checks.ssh_banner.ok ? paint(ctx, 'green', r.checks.ssh_banner.detail) : mark(r.checks.ssh_banner),
      r.rtt_ms === null ? '-' : `${r.rtt_ms.toFixed(1)} ms`,
    ]),
  );
}

export const validateCommand = defineCommand({
  path: ['inventory', 'validate'],
  summary: 'check the inventory and report every problem at once',
  help: [
    'Reports each problem as file:line:column, field path, what was found and what was expected.',
    'Exits 1 when there is an error (warnings alone exit 0).',
    '',
    '--connectivity also checks each selected server: name resolution, TCP reach of its SSH port,',
    'the SSH banner, and round-trip time. --record writes each result into the server\'s status',
    'block (the only write validate makes).',
    '',
    'Examples:',
    '  cistern inventory validate',
    '  cistern inventory validate --connectivity --on tag:tv --timeout 2s --record',
  ].join('\n'),
  options: [
    fileOption,
    { flags: '--connectivity', description: 'also check that each server is reachable over SSH' },
    onOption,
    { flags: '--timeout <duration>', description: 'per check, e.g. 500ms, 3s', default: '3s' },
    { flags: '--concurrency <n>', description: 'servers checked at once', default: '16' },
    { flags: '--record', description: 'write connectivity results into status blocks' },
  ],
  input: z.object({
    ...fileInput,
    connectivity: z.boolean().optional(),
    on: z.string().optional(),
    timeout: z.string().transform((t, c) => parseDuration(t) ?? (c.addIssue({ code: 'custom', message: `"${t}" is not a duration like 500ms or 3s` }), z.NEVER)),
    concurrency: z.coerce.number().int().min(1).max(256),
    record: z.boolean().optional(),
  }).refine((v) => !v.record || v.connectivity, { message: '--record needs --connectivity', path: ['record'] }),
  async handler(input, ctx) {
    const analysis = await loadInventory(fileFrom(input, ctx));
    const lines = analysis.findings.map((f) => renderFinding(f, ctx));
    lines.push(summary(analysis));
    let connectivity: ConnectivityResult[] | undefined;
    if (input.connectivity) {
      const names = selectServers(analysis.inventory, input.on);
      const targets = names.map((name) => {
        const server = analysis.inventory.servers?.[name];
        return { name, address: server?.address ?? server?.hostname ?? name, port: server?.ssh?.port ?? 22 };
      });
      const progress = ctx.interactive && !ctx.env.CI;
      connectivity = await checkConnectivity(targets, {
        timeoutMs: input.timeout,
        concurrency: input.concurrency,
        onResult: progress ? (_r, done, total) => ctx.stderr.write(`\rchecking connectivity: ${done}/${total}${done === total ? '\n' : ''}`) : undefined,
      });
      lines.push('', renderConnectivity(connectivity, ctx).trimEnd());
      const failed = connectivity.filter((r) => !r.ok).length;
      lines.push(failed === 0 ? `all ${connectivity.length} servers reachable` : `${failed} of ${connectivity.length} servers failed a check`);
      if (input.record) {
        const results = connectivity;
        await editInventory(analysis.file, (data) => {
          const servers = rawServers(data);
          for (const r of results) {
            const server = servers[r.name];
            if (!server) continue;
            const status = (server.status && typeof server.status === 'object' ? server.status : {}) as Record<string, unknown>;
            status.last_check = { at: r.at, ok: r.ok, rtt_ms: r.rtt_ms, checks: r.checks };
            server.status = status;
          }
        });
        lines.push(`recorded results in ${analysis.file}`);
      }
    }
    const failed = !analysis.ok || (connectivity?.some((r) => !r.ok) ?? false);
    const data = {
      file: analysis.file,
      ok: !failed,
      errors: analysis.findings.filter((f) => f.severity === 'error').length,
      warnings: analysis.findings.filter((f) => f.severity === 'warning').length,
      findings: analysis.findings,
      ...(connectivity && { connectivity }),
    };
    return { data, text: lines.join('\n'), exitCode: failed ? 1 : 0 };
  },
});
