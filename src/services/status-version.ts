/**
 * The version a healthy status answer gives, from the field its probe's `version_field` names
 * (`version` for the *arr apps, `Version` for Jellyfin, `data.bazarr_version`, …). Pure. At most
 * 64 characters of one line: it is shown in tables and sent in heartbeats.
 */
import type { ProbeAnswer } from './probe-verdict.js';
import type { StatusProbe } from './schema.js';

export function statusVersion(probe: Pick<StatusProbe, 'version_field'>, answer: ProbeAnswer): string | undefined {
  if (!probe.version_field || answer.kind !== 'http' || answer.body === undefined) return undefined;
  let node: unknown;
  try {
    node = JSON.parse(answer.body);
  } catch {
    return undefined;
  }
  for (const part of probe.version_field.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  if (typeof node !== 'string' && typeof node !== 'number') return undefined;
  const version = String(node).split('\n')[0]?.trim().slice(0, 64);
  return version ? version : undefined;
}
