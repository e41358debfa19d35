import { z } from 'zod';
import { lineIndex, nodeAt, type Analysis } from '../../../inventory/analyze.js';
import { formatFinding, type Finding } from '../../../inventory/findings.js';
import { loadValidInventory } from '../../../inventory/store.js';
import { storagePlan, type StorageConflict, type StoragePlan } from '../../../storage/index.js';
import { defineCommand } from '../../command.js';
import { paint, type CommandContext } from '../../context.js';
import { table } from '../../table.js';
import { fileFrom, fileInput, fileOption } from '../inventory/shared.js';

/** A conflict as a finding placed on its line of inventory.yaml, printed the way `inventory validate` prints. */
export function conflictFinding(conflict: StorageConflict, analysis: Pick<Analysis, 'file' | 'text' | 'document'>, position = lineIndex(analysis.text)): Finding {
  const finding: Finding = {
    severity: conflict.severity, code: conflict.code, path: conflict.field ?? [], message: conflict.message,
    ...(conflict.hint !== undefined && { hint: conflict.hint }), file: analysis.file,
  };
  const offset = conflict.field ? nodeAt(analysis.document().doc, conflict.field)?.range?.[0] : undefined;
  if (offset === undefined) return { ...finding, line: 1, column: 1 };
  const { line, col } = position(offset);
  return { ...finding, line, column: col };
}

export function renderPlan(plan: StoragePlan, findings: readonly Finding[], ctx: Pick<CommandContext, 'color'>): string {
  const out: string[] = [];
  if (plan.mediaRoot === null) out.push('no storage.media_root: nothing to share');
  else if (plan.mediaServer === null) out.push(`media root ${plan.mediaRoot}: no server chosen to export it (see the conflicts)`);
  else out.push(`media root ${plan.mediaRoot} on ${plan.mediaServer}, shared over NFSv4`);
  if (plan.exports.length > 0) {
    out.push('', 'EXPORTS', table(['SERVER', 'PATH', 'CLIENTS', 'ALLOW', 'OPTIONS'], plan.exports.map((e) => [e.server, e.path, e.clients.join(','), e.allow.join(','), e.options.join(',')])).trimEnd());
  }
  if (plan.mounts.length > 0) {
    out.push('', 'MOUNTS', table(['SERVER', 'FROM', 'AT', 'DEVICE', 'OPTIONS'], plan.mounts.map((m) => [m.server, m.from, m.at, m.device, m.options.join(',')])).trimEnd());
  }
  for (const [server, lines] of Object.entries(plan.exportsLines)) out.push('', `/etc/exports on ${server}:`, ...lines.map((l) => `  ${l}`));
  for (const [server, nix] of Object.entries(plan.nixos)) out.push('', `NixOS module for ${server}:`, nix.trimEnd().replace(/^/gm, '  '));
  if (findings.length > 0) {
    out.push('', 'conflicts:');
    for (const f of findings) {
      const text = formatFinding(f);
      out.push(f.severity === 'error' ? text.replace(' error ', ` ${paint(ctx, 'red', 'error')} `) : text.replace(' warning ', ` ${paint(ctx, 'yellow', 'warning')} `));
    }
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  out.push('', `${plural(errors, 'error')}, ${plural(findings.length - errors, 'warning')}`);
  return out.join('\n');
}

export const storagePlanCommand = defineCommand({
  path: ['storage', 'plan'],
  summary: 'plan the shared media storage: NFS exports, mounts, NixOS snippets, conflicts',
  help: [
    'From storage.media_root and each server\'s storage list: which server exports the media root over',
    'NFSv4, which servers mount it (those that run services needing media), the /etc/exports lines and',
    'a NixOS module per server, and every conflict (see docs/storage.md). Reads the file only.',
    'Exits 1 when there is an error-level conflict.',
    '',
    'Examples:',
    '  cistern storage plan',
    '  cistern storage plan --file fleet.yaml --json',
  ].join('\n'),
  options: [fileOption],
  input: z.object({ ...fileInput }),
  async handler(input, ctx) {
    const analysis = await loadValidInventory(fileFrom(input, ctx));
    const plan = storagePlan(analysis.inventory);
    const position = lineIndex(analysis.text);
    const findings = plan.conflicts.map((c) => conflictFinding(c, analysis, position));
    const failed = plan.conflicts.some((c) => c.severity === 'error');
    return {
      data: { file: analysis.file, ok: !failed, ...plan, conflicts: plan.conflicts.map((c, i) => ({ ...c, line: findings[i]?.line, column: findings[i]?.column })) },
      text: renderPlan(plan, findings, ctx),
      exitCode: failed ? 1 : 0,
    };
  },
});
