/**
 * Edits that parse only what they touch. Building a yaml Document costs about 0.2 ms per server
 * line-block of a large inventory, so a one-field edit of a 10,000-server file would spend
 * seconds parsing entries it never changes. Here the text is cut into entries by indentation —
 * top-level sections, and the entries of a section that is a block map (each server) — and only
 * a window around the changed entries is parsed and patched. Anything the cutter is not sure of
 * (sequences, anchors, tags, document markers, keys it cannot read back) returns undefined, and
 * the caller patches the whole Document instead.
 */
import { isDeepStrictEqual } from 'node:util';
import jsyaml from 'js-yaml';

export interface Entry {
  key: string;
  /** Offset of the entry's first line (comment lines directly above it included). */
  start: number;
  /** Offset of the entry's key line. */
  keyStart: number;
  /** Offset just past the entry's last line. */
  end: number;
}

export interface Window { start: number; end: number; text: string; before: Record<string, unknown>; after: Record<string, unknown> }

type Plain = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Plain => v !== null && typeof v === 'object' && !Array.isArray(v);

const KEY_LINE = /^( *)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"&*!|>%@`[\]{},?:-][^#:]*?|-[^\s#:][^#:]*?)[ \t]*:(?:[ \t]|$)/;

function readKey(raw: string): string | undefined {
  try {
    const value: unknown = jsyaml.load(raw, { schema: jsyaml.CORE_SCHEMA });
    return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The entries of a block map whose lines lie in [from, to), or undefined when the region is not
 * plainly a block map of `key:` lines at one indentation.
 */
export function entries(text: string, from: number, to: number): Entry[] | undefined {
  const found: Entry[] = [];
  let indent = -1;
  let pendingComments = -1;
  let at = from;
  while (at < to) {
    const nl = text.indexOf('\n', at);
    const lineEnd = nl === -1 || nl >= to ? to : nl + 1;
    const line = text.slice(at, lineEnd).replace(/\r?\n$/, '');
    const trimmed = line.trimStart();
    const lineIndent = line.length - trimmed.length;
    if (trimmed === '') {
      pendingComments = -1;
    } else if (trimmed.startsWith('#')) {
      if (lineIndent === indent || (indent === -1 && found.length === 0)) pendingComments = pendingComments === -1 ? at : pendingComments;
      else pendingComments = -1;
    } else {
      if (/^(---|\.\.\.)(\s|$)/.test(line) || /^\s*[&*!%]/.test(trimmed)) return undefined;
      if (indent === -1) indent = lineIndent;
      if (lineIndent < indent) return undefined;
      if (lineIndent === indent) {
        const match = KEY_LINE.exec(line);
        if (!match || /(^|\s)[&*!][^\s]/.test(line.slice(match[0].length))) return undefined;
        const key = readKey(match[2] as string);
        if (key === undefined) return undefined;
        const previous = found.at(-1);
        const start = pendingComments === -1 ? at : pendingComments;
        if (previous) previous.end = start;
        found.push({ key, start, keyStart: at, end: to });
      } else if (found.length === 0) return undefined;
      pendingComments = -1;
    }
    at = lineEnd;
  }
  return found;
}

/** Offset just past the line that holds `offset`. */
function nextLine(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

/**
 * The smallest windows over `list` (the entries of a map whose data was `before` and should
 * become `after`) that hold every change. Returns undefined when no safe window exists.
 */
function windowsOver(text: string, list: Entry[], before: Plain, after: Plain): Window[] | undefined {
  const keys = list.map((e) => e.key);
  if (!isDeepStrictEqual(keys, Object.keys(before))) return undefined;
  const added = Object.keys(after).filter((k) => !Object.hasOwn(before, k));
  const touched = new Set<number>();
  list.forEach((entry, i) => {
    if (!Object.hasOwn(after, entry.key)) {
      touched.add(i);
      // Removing an entry needs a neighbour that stays, so the window's map never empties.
      const neighbour = list.findIndex((e, j) => j !== i && Object.hasOwn(after, e.key) && Math.abs(j - i) === 1);
      if (neighbour === -1) touched.add(-1);
      else touched.add(neighbour);
    } else if (!isDeepStrictEqual(before[entry.key], after[entry.key])) touched.add(i);
  });
  if (touched.has(-1) || list.length === 0) return undefined;
  if (added.length > 0) touched.add(list.length - 1);
  if (touched.size === 0) return [];
  const windows: Window[] = [];
  for (const i of [...touched].sort((a, b) => a - b)) {
    const entry = list[i] as Entry;
    const last = windows.at(-1);
    if (last && last.end === entry.start) {
      last.end = entry.end;
      last.before[entry.key] = before[entry.key];
      if (Object.hasOwn(after, entry.key)) last.after[entry.key] = after[entry.key];
    } else {
      windows.push({
        start: entry.start, end: entry.end, text: '',
        before: { [entry.key]: before[entry.key] },
        after: Object.hasOwn(after, entry.key) ? { [entry.key]: after[entry.key] } : {},
      });
    }
  }
  const tail = windows.at(-1);
  if (tail && added.length > 0) for (const key of added) tail.after[key] = after[key];
  for (const w of windows) w.text = text.slice(w.start, w.end);
  return windows;
}

/**
 * Windows holding every change from `before` to `after` (whole documents), descending one level
 * into top-level sections that are block maps, or undefined when windows cannot be cut safely.
 */
export function changeWindows(text: string, before: unknown, after: unknown): Window[] | undefined {
  if (!isPlainObject(before) || !isPlainObject(after) || Object.keys(before).length === 0) return undefined;
  const top = entries(text, 0, text.length);
  if (!top || top.some((e) => text[e.keyStart] === ' ')) return undefined;
  const sameKeys = isDeepStrictEqual(Object.keys(before), Object.keys(after));
  if (sameKeys) {
    // Descend into each changed section whose value is a block map of entries.
    const windows: Window[] = [];
    for (const section of top) {
      const old = before[section.key];
      const next = after[section.key];
      if (isDeepStrictEqual(old, next)) continue;
      const inner = isPlainObject(old) && isPlainObject(next) && Object.keys(old).length > 0 && Object.keys(next).length > 0
        ? entries(text, nextLine(text, section.keyStart), section.end)
        : undefined;
      const nested = inner && inner.length > 0 ? windowsOver(text, inner, old as Plain, next as Plain) : undefined;
      if (nested) windows.push(...nested);
      else {
        const own = windowsOver(text, [section], { [section.key]: old }, { [section.key]: next });
        if (!own) return undefined;
        windows.push(...own);
      }
    }
    return windows;
  }
  return windowsOver(text, top, before, after);
}
