/**
 * A finding is one problem in an inventory: where it is (file, line, column, field path), what
 * was found and what was expected. Validation collects all of them instead of stopping at the
 * first, and the CLI prints them or emits them as JSON.
 */
export type Severity = 'error' | 'warning';
export type FieldPath = readonly (string | number)[];

export interface Finding {
  severity: Severity;
  /** Stable code, e.g. `yaml-syntax`, `schema`, `unknown-key`, `duplicate-address`. */
  code: string;
  path: FieldPath;
  message: string;
  found?: string;
  expected?: string;
  hint?: string;
  file?: string;
  line?: number;
  column?: number;
  /** Source excerpt with a caret under the position (YAML syntax errors). */
  excerpt?: string;
}

export type FindingInput = Omit<Finding, 'file' | 'line' | 'column'>;

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out === '' ? '(document)' : out;
}

/** `file:line:col: error path: message (found X, expected Y)` — the shape compilers use. */
export function formatFinding(f: Finding): string {
  const where = [f.file ?? '<inventory>', f.line, f.column].filter((x) => x !== undefined).join(':');
  let text = `${where}: ${f.severity} ${formatPath(f.path)}: ${f.message}`;
  const detail = [f.found !== undefined ? `found ${f.found}` : '', f.expected !== undefined ? `expected ${f.expected}` : '']
    .filter(Boolean)
    .join(', ');
  if (detail) text += ` (${detail})`;
  if (f.hint) text += `\n  hint: ${f.hint}`;
  if (f.excerpt) text += `\n${f.excerpt.replace(/^/gm, '  ')}`;
  return text;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
