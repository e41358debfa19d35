/**
 * Fleet-wide configuration templates, rendered per server with LiquidJS (Shopify's Liquid, made
 * for untrusted templates): no code runs, only own properties of the data are visible, and the
 * file system is replaced by the inventory's own templates, so `{% include %}` can reach other
 * templates by name and nothing else. Undefined variables and filters are errors.
 *
 * Variables: everything from `mergedVars` (fleet < group < server), plus `server` (the server's
 * fields, `name` included) and `groups` (the names of its groups).
 */
import { Liquid, type LiquidError } from 'liquidjs';
import { CisternError } from '../errors.js';
import type { FindingInput } from './findings.js';
import type { Inventory } from './schema.js';

export function templateText(inventory: Inventory, name: string): string | undefined {
  const def = inventory.templates?.[name];
  return typeof def === 'string' ? def : def?.text;
}

function engineFor(inventory: Inventory): Liquid {
  const templates: Record<string, string> = {};
  for (const name of Object.keys(inventory.templates ?? {})) templates[name] = templateText(inventory, name) ?? '';
  return new Liquid({
    templates,
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    relativeReference: false,
    // Bounds so a template cannot hang or exhaust the process.
    parseLimit: 1_000_000,
    renderLimit: 2_000,
    memoryLimit: 50_000_000,
  });
}

interface Position { line?: number; column?: number; detail: string }

function positionOf(error: unknown): Position {
  const e = error as Partial<LiquidError> & { message?: string };
  const pos = e.token?.getPosition?.();
  const detail = (e.message ?? String(error)).replace(/, line:\d+, col:\d+$/, '').split('\n')[0] ?? '';
  return { line: pos?.[0], column: pos?.[1], detail };
}

/** Syntax check of every template, as validation findings. */
export function checkTemplates(inventory: Inventory): FindingInput[] {
  const engine = engineFor(inventory);
  const findings: FindingInput[] = [];
  for (const name of Object.keys(inventory.templates ?? {})) {
    try {
      engine.parse(templateText(inventory, name) ?? '', name);
    } catch (error) {
      const { line, detail } = positionOf(error);
      findings.push({ severity: 'error', code: 'template-syntax', path: ['templates', name], message: `template "${name}"${line ? ` line ${line}` : ''}: ${detail}` });
    }
  }
  return findings;
}

export async function renderTemplate(inventory: Inventory, name: string, scope: Record<string, unknown>): Promise<string> {
  const text = templateText(inventory, name);
  if (text === undefined) {
    throw new CisternError('E_TEMPLATE_NOT_FOUND', `no template named "${name}"`, {
      hint: `templates: ${Object.keys(inventory.templates ?? {}).join(', ') || '(none defined)'}`,
    });
  }
  const engine = engineFor(inventory);
  try {
    return await engine.parseAndRender(text, scope);
  } catch (error) {
    const { line, column, detail } = positionOf(error);
    const missing = /undefined variable: ([^,\s]+)/.exec(detail)?.[1];
    const message = missing
      ? `template "${name}" line ${line ?? '?'}: variable "${missing}" is not defined for this server`
      : `template "${name}"${line ? ` line ${line}` : ''}: ${detail}`;
    throw new CisternError('E_TEMPLATE', message, {
      hint: missing ? `define "${missing}" in vars: at fleet, group or server level` : undefined,
      details: { template: name, line, column, variable: missing },
    });
  }
}
