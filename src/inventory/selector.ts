/**
 * Server selectors: the one syntax every command that targets servers takes (`--on`).
 *
 *   selector = term { "," term }          terms are joined with AND
 *   term     = [ "!" ] atom               "!" negates the term
 *   atom     = "tag:" GLOB                a tag of the server
 *            | "group:" NAME             a member of the group
 *            | FIELD "=" GLOB            a field: role, location, hardware_type, profile,
 *                                        health, hostname, address, or label.KEY
 *            | GLOB                      the server's name
 *
 * GLOB may use `*`, `?`, `[...]` and `{a,b}` (picomatch syntax). Examples:
 * `media-*`, `tag:tv,!location=attic`, `role=primary,group:family`, `label.owner=mum`.
 *
 * Parsing is pure. A malformed selector raises E_SELECTOR pointing at the bad token.
 */
import picomatch from 'picomatch';
import { CisternError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';

export const SELECTOR_FIELDS = ['role', 'location', 'hardware_type', 'profile', 'health', 'hostname', 'address'] as const;
export type SelectorField = (typeof SELECTOR_FIELDS)[number] | `label.${string}`;

export type Atom =
  | { kind: 'name'; pattern: string }
  | { kind: 'tag'; pattern: string }
  | { kind: 'group'; group: string }
  | { kind: 'field'; field: SelectorField; pattern: string };

export interface Term {
  negate: boolean;
  atom: Atom;
  /** Offsets of the term in the selector text, for error messages. */
  start: number;
  end: number;
  matches: (value: string) => boolean;
}

export interface Selector {
  source: string;
  terms: Term[];
}

/** What a selector sees of a server. */
export interface SelectableServer {
  name: string;
  tags: readonly string[];
  groups: ReadonlySet<string>;
  fields: Readonly<Partial<Record<string, string>>>;
  labels: Readonly<Record<string, string>>;
}

const GLOB_CHARS = /^[A-Za-z0-9._\-*?[\]{}!/:@+,]+$/;
const NAME_CHARS = /^[A-Za-z0-9._-]+$/;

function fail(source: string, start: number, end: number, reason: string, hint?: string): never {
  const caret = ' '.repeat(start) + '^'.repeat(Math.max(1, end - start));
  throw new CisternError('E_SELECTOR', `malformed selector: ${reason}\n  ${source}\n  ${caret}`, {
    hint: hint ?? 'see `cistern inventory --help` for the selector syntax',
    exitCode: 2,
    details: { selector: source, start, end, reason },
  });
}

function glob(pattern: string): (value: string) => boolean {
  if (!/[*?[\]{}]/.test(pattern)) return (value) => value === pattern;
  return picomatch(pattern, { dot: true });
}

/** Splits at commas outside `{...}` and `[...]`, so `role={primary,storage}` stays one term. */
function splitTerms(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of source) {
    if (char === '{' || char === '[') depth++;
    else if ((char === '}' || char === ']') && depth > 0) depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

export function parseSelector(source: string): Selector {
  const terms: Term[] = [];
  if (source.trim() === '') fail(source, 0, source.length, 'the selector is empty');
  let offset = 0;
  for (const raw of splitTerms(source)) {
    const leading = raw.length - raw.trimStart().length;
    const text = raw.trim();
    const start = offset + leading;
    const end = start + text.length;
    offset += raw.length + 1;
    if (text === '') fail(source, start, start + 1, 'empty term (two commas, or a comma at an end)');
    const negate = text.startsWith('!');
    const body = negate ? text.slice(1).trimStart() : text;
    const bodyStart = end - body.length;
    if (body === '') fail(source, start, end, '"!" needs a term after it');
    const atom = parseAtom(source, body, bodyStart);
    const pattern = atom.kind === 'group' ? atom.group : atom.pattern;
    terms.push({ negate, atom, start, end, matches: glob(pattern) });
  }
  return { source, terms };
}

function parseAtom(source: string, body: string, at: number): Atom {
  const end = at + body.length;
  const prefixed = /^(tag|group):(.*)$/.exec(body);
  if (prefixed) {
    const [, kind, value = ''] = prefixed;
    if (value === '') fail(source, at, end, `"${kind}:" needs a ${kind} name after it`);
    if (kind === 'group') {
      if (!NAME_CHARS.test(value)) fail(source, at + 6, end, `"${value}" is not a group name`);
      return { kind: 'group', group: value };
    }
    if (!GLOB_CHARS.test(value)) fail(source, at + 4, end, `"${value}" is not a tag or tag pattern`);
    return { kind: 'tag', pattern: value };
  }
  const eq = body.indexOf('=');
  if (eq >= 0) {
    const field = body.slice(0, eq).trim();
    const value = body.slice(eq + 1).trim();
    if (field === '') fail(source, at, at + eq + 1, 'a field name is missing before "="');
    const known = (SELECTOR_FIELDS as readonly string[]).includes(field) || /^label\.[A-Za-z0-9._-]+$/.test(field);
    if (!known) {
      const hint = didYouMean(field, [...SELECTOR_FIELDS, 'label.KEY']);
      fail(source, at, at + field.length, `unknown field "${field}"${hint ? ` (${hint})` : ''}`,
        `fields: ${SELECTOR_FIELDS.join(', ')}, label.KEY`);
    }
    if (value === '') fail(source, at, end, `"${field}=" needs a value`);
    if (!GLOB_CHARS.test(value.replace(/ /g, '_'))) fail(source, at + eq + 1, end, `"${value}" is not a valid value`);
    return { kind: 'field', field: (field === 'hardware_profile' ? 'profile' : field) as SelectorField, pattern: value };
  }
  if (/^[a-z_]+:/.test(body)) {
    const prefix = body.slice(0, body.indexOf(':'));
    const hint = didYouMean(prefix, ['tag', 'group']);
    fail(source, at, at + prefix.length + 1, `unknown prefix "${prefix}:"${hint ? ` (${hint})` : ''}`, 'prefixes: tag:, group:');
  }
  if (!GLOB_CHARS.test(body)) fail(source, at, end, `"${body}" is not a server name or name pattern`);
  return { kind: 'name', pattern: body };
}

export function termMatches(term: Term, server: SelectableServer): boolean {
  const { atom } = term;
  let hit: boolean;
  switch (atom.kind) {
    case 'name':
      hit = term.matches(server.name);
      break;
    case 'tag':
      hit = server.tags.some((tag) => term.matches(tag));
      break;
    case 'group':
      hit = server.groups.has(atom.group);
      break;
    case 'field': {
      const value = atom.field.startsWith('label.') ? server.labels[atom.field.slice(6)] : server.fields[atom.field];
      hit = value !== undefined && term.matches(value);
      break;
    }
  }
  return term.negate ? !hit : hit;
}

export function selectorMatches(selector: Selector, server: SelectableServer): boolean {
  return selector.terms.every((term) => termMatches(term, server));
}

/** Group names a selector refers to (for dependency order and cycle checks). */
export function referencedGroups(selector: Selector): string[] {
  return selector.terms.flatMap((t) => (t.atom.kind === 'group' ? [t.atom.group] : []));
}
