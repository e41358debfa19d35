/**
 * Minimal-byte edits of a YAML file. The caller changes a plain copy of the data; `patchYaml`
 * compares it with what the parsed Document holds and splices new text into the original only
 * where values differ, using the Document's node ranges. Every other byte — comments, blank
 * lines, key order, quoting, unknown keys — stays as it was. New nodes are rendered with the
 * yaml library in the file's own indentation style.
 *
 * The result is re-parsed and compared with the wanted data; a mismatch is a bug, never a
 * silently wrong file.
 */
import { isDeepStrictEqual } from 'node:util';
import jsyaml from 'js-yaml';
import { changeWindows } from './window.js';
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, Scalar, stringify, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';

interface Splice { start: number; end: number; text: string }
interface Style { indent: number; indentSeq: boolean }

type Plain = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Plain => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCollection = (v: unknown) => v !== null && typeof v === 'object';
const isEmptyCollection = (v: unknown) => (Array.isArray(v) ? v.length === 0 : isPlainObject(v) && Object.keys(v).length === 0);

class Patcher {
  readonly splices: Splice[] = [];
  constructor(readonly text: string, readonly style: Style) {}

  lineStart(offset: number): number {
    return this.text.lastIndexOf('\n', offset - 1) + 1;
  }

  column(offset: number): number {
    return offset - this.lineStart(offset);
  }

  /** Offset just past the end of the line holding `offset` (or past `offset` if it ends one). */
  afterLine(offset: number): number {
    if (offset > 0 && this.text[offset - 1] === '\n') return offset;
    const nl = this.text.indexOf('\n', offset);
    return nl === -1 ? this.text.length : nl + 1;
  }

  /** Text for a new line block at `at`, adding the newline the file may lack at its end. */
  insert(at: number, block: string): void {
    const needsNewline = at === this.text.length && at > 0 && !this.text.endsWith('\n');
    this.splices.push({ start: at, end: at, text: (needsNewline ? '\n' : '') + block });
  }

  render(value: unknown, column: number): string {
    const out = stringify(value, { indent: this.style.indent, indentSeq: this.style.indentSeq, lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
    const pad = ' '.repeat(column);
    return out.replace(/\n$/, '').split('\n').map((line, i) => (i === 0 || line === '' ? line : pad + line)).join('\n') + '\n';
  }

  renderInline(value: unknown, node?: Node | null): string {
    if (isEmptyCollection(value)) return Array.isArray(value) ? '[]' : '{}';
    if (isCollection(value)) {
      const out = stringify(value, { collectionStyle: 'flow', lineWidth: 0, aliasDuplicateObjects: false }).trim();
      return out.replace(/^([[{]) (.*) ([\]}])$/s, '$1$2$3');
    }
    if (typeof value === 'string') {
      const type = isScalar(node) ? node.type : undefined;
      if (type === Scalar.QUOTE_DOUBLE || value.includes('\n')) return JSON.stringify(value);
      if (type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
    }
    const out = stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
    return out.includes('\n') ? JSON.stringify(value) : out;
  }

  diff(node: Node | null, oldValue: unknown, newValue: unknown, pair: Pair | null): void {
    if (isDeepStrictEqual(oldValue, newValue)) return;
    if (node && !isAlias(node)) {
      if (isMap(node) && !node.flow && isPlainObject(oldValue) && isPlainObject(newValue) && !isEmptyCollection(newValue)) {
        return this.diffMap(node, oldValue, newValue);
      }
      if (isSeq(node) && !node.flow && Array.isArray(oldValue) && Array.isArray(newValue) && newValue.length > 0) {
        return this.diffSeq(node, oldValue, newValue);
      }
    }
    this.replace(node, newValue, pair);
  }

  /** Replaces a value whose shape changed, or any flow collection or scalar. */
  replace(node: Node | null, value: unknown, pair: Pair | null): void {
    const range = node?.range;
    const oldIsBlock = (isMap(node) || isSeq(node)) && !node.flow;
    // A non-empty flow collection keeps its style; an empty one (`servers: {}`) grows into a block.
    const keepsFlow = (isMap(node) || isSeq(node)) && node.flow && node.items.length > 0;
    const newIsBlock = isCollection(value) && !isEmptyCollection(value) && !keepsFlow;
    if (!newIsBlock) {
      if (!range) throw new Error('yaml patch: value without a source range');
      const inline = this.renderInline(value, node);
      if (oldIsBlock && pair && (pair.key as Node | null)?.range) {
        // `key:` + block below becomes `key: value` on one line.
        const colon = this.text.indexOf(':', (pair.key as Node).range?.[1]);
        this.splices.push({ start: colon + 1, end: this.trimTrailingNewline(range), text: ` ${inline}` });
      } else if (oldIsBlock) {
        this.splices.push({ start: range[0], end: this.trimTrailingNewline(range), text: inline });
      } else {
        const pad = range[0] === range[1] && this.text[range[0] - 1] === ':' ? ' ' : '';
        // A block scalar's range includes its last newline, which the next line needs.
        this.splices.push({ start: range[0], end: this.trimTrailingNewline(range), text: pad + inline });
      }
      return;
    }
    if (pair && isScalar(pair.key) && pair.key.range) {
      // `key: old` becomes `key:` with a block under it: re-render the whole pair at its column.
      const start = pair.key.range[0];
      const end = range ? this.trimTrailingNewline(range) : pair.key.range[1];
      const block = this.render({ [String(pair.key.value)]: value }, this.column(start)).replace(/\n$/, '');
      this.splices.push({ start, end, text: block });
      return;
    }
    if (!range) throw new Error('yaml patch: value without a source range');
    // A sequence item or the document root: the block starts where the old value did.
    this.splices.push({ start: range[0], end: this.trimTrailingNewline(range), text: this.render(value, this.column(range[0])).replace(/\n$/, '') });
  }

  trimTrailingNewline(range: [number, number, number]): number {
    return this.text[range[1] - 1] === '\n' ? range[1] - 1 : range[1];
  }

  diffMap(node: YAMLMap, oldValue: Plain, newValue: Plain): void {
    const pairs = node.items.filter(isPair);
    pairs.forEach((pair, index) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!Object.hasOwn(newValue, key)) this.deletePair(pair, pairs[index + 1]);
      else this.diff(pair.value as Node | null, oldValue[key], newValue[key], pair);
    });
    const added = Object.keys(newValue).filter((key) => !Object.hasOwn(oldValue, key));
    if (added.length === 0) return;
    const first = pairs[0]?.key as Node | undefined;
    const column = first?.range ? this.column(first.range[0]) : 0;
    // After the last entry and the comments that belong to it, before any blank lines.
    const last = pairs.at(-1);
    const lastEnd = (last?.value as Node | null)?.range?.[1] ?? (last?.key as Node | null)?.range?.[1] ?? node.range?.[1] ?? this.text.length;
    const at = this.commentsBelow(this.afterLine(lastEnd), column);
    this.insert(at, this.render(Object.fromEntries(added.map((key) => [key, newValue[key]])), column).replace(/^/, ' '.repeat(column)));
  }

  deletePair(pair: Pair, next: Pair | undefined): void {
    const keyRange = (pair.key as Node).range;
    if (!keyRange) throw new Error('yaml patch: key without a source range');
    const value = pair.value as Node | null;
    const lineStart = this.lineStart(keyRange[0]);
    const end = this.afterLine(value?.range?.[1] ?? keyRange[1]);
    if (this.text.slice(lineStart, keyRange[0]).trim() !== '') {
      // First pair of a map that is a sequence item (`- key: v`): the next key takes its place.
      const nextStart = (next?.key as Node | undefined)?.range?.[0];
      this.splices.push({ start: keyRange[0], end: nextStart ?? end, text: '' });
      return;
    }
    this.splices.push({ start: this.commentsAbove(lineStart), end: this.commentsBelow(end, this.column(keyRange[0])), text: '' });
  }

  /** Comment lines right after an entry, indented deeper than its key, belong to it too. */
  commentsBelow(end: number, keyColumn: number): number {
    let at = end;
    while (at < this.text.length) {
      const next = this.afterLine(at + 1);
      const line = this.text.slice(at, next).replace(/\n$/, '');
      const indent = /^ */.exec(line)?.[0].length ?? 0;
      if (!/^ *#/.test(line) || indent <= keyColumn) break;
      at = next;
    }
    return at;
  }

  /** Comment lines directly above a line at the same indentation belong to the removed entry. */
  commentsAbove(lineStart: number): number {
    const indent = /^ */.exec(this.text.slice(lineStart))?.[0].length ?? 0;
    let start = lineStart;
    while (start > 0) {
      const prev = this.lineStart(start - 1);
      const line = this.text.slice(prev, start - 1);
      if (!/^ *#/.test(line) || (/^ */.exec(line)?.[0].length ?? 0) !== indent) break;
      start = prev;
    }
    return start;
  }

  diffSeq(node: YAMLSeq, oldValue: unknown[], newValue: unknown[]): void {
    const items = node.items as (Node | null)[];
    const kept = subsequence(oldValue, newValue);
    if (kept) {
      items.forEach((item, i) => {
        if (!kept.has(i)) this.deleteItem(item);
      });
      return;
    }
    const shared = Math.min(oldValue.length, newValue.length);
    for (let i = 0; i < shared; i++) this.diff(items[i] ?? null, oldValue[i], newValue[i], null);
    for (let i = shared; i < oldValue.length; i++) this.deleteItem(items[i] ?? null);
    if (newValue.length > shared) {
      const firstItem = items[0]?.range?.[0] ?? node.range?.[0] ?? 0;
      const dash = this.text.lastIndexOf('-', firstItem - 1);
      const column = this.column(dash);
      const at = this.afterLine(node.range?.[1] ?? this.text.length);
      this.insert(at, this.render(newValue.slice(shared), column).replace(/^/, ' '.repeat(column)));
    }
  }

  deleteItem(item: Node | null): void {
    const range = item?.range;
    if (!range) throw new Error('yaml patch: sequence item without a source range');
    const start = this.lineStart(range[0]);
    this.splices.push({ start: this.commentsAbove(start), end: this.afterLine(range[1]), text: '' });
  }
}

/** Indices of `old` kept when `next` is `old` with some items removed, else undefined. */
function subsequence(old: unknown[], next: unknown[]): Set<number> | undefined {
  if (next.length >= old.length) return undefined;
  const kept = new Set<number>();
  let j = 0;
  for (let i = 0; i < old.length && j < next.length; i++) {
    if (isDeepStrictEqual(old[i], next[j])) {
      kept.add(i);
      j++;
    }
  }
  return j === next.length ? kept : undefined;
}

/** The file's indentation step and whether sequences under a key are indented. */
export function detectStyle(doc: Document, text: string): Style {
  const style: Style = { indent: 2, indentSeq: true };
  let indentFound = false;
  let seqFound = false;
  const col = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  const visit = (node: unknown, depth: number): void => {
    if (depth > 6 || (indentFound && seqFound)) return;
    if (isMap(node) && !node.flow) {
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const value = pair.value as Node | null;
        if (key?.range && value?.range && !indentFound && isMap(value) && !value.flow) {
          const step = col(value.range[0]) - col(key.range[0]);
          if (step > 0) { style.indent = step; indentFound = true; }
        }
        if (key?.range && value?.range && !seqFound && isSeq(value) && !value.flow) {
          style.indentSeq = col(value.range[0]) > col(key.range[0]);
          seqFound = true;
        }
        visit(value, depth + 1);
      }
    } else if (isSeq(node) && !node.flow) node.items.forEach((item) => visit(item, depth + 1));
  };
  visit(doc.contents, 0);
  return style;
}

/**
 * Applies splices from the end of the text backwards. Insertions at one offset keep the order
 * they were made in: the diff makes an entry's own additions before its parent's new siblings,
 * so a server's new `status:` lands under it, above a server added after it.
 */
export function applySplices(text: string, splices: Splice[]): string {
  const sorted = splices.map((splice, order) => ({ ...splice, order })).sort((a, b) => b.start - a.start || b.end - a.end || b.order - a.order);
  let out = text;
  let limit = Infinity;
  for (const s of sorted) {
    if (s.end > limit) throw new Error('yaml patch: overlapping edits');
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
    limit = s.start;
  }
  return out;
}

export interface PatchOptions {
  /** The data `text` holds now, when the caller has it (saves a parse). */
  current?: unknown;
  /** The Document of `text`, when the caller has it or can make it. */
  document?: () => Document;
  /** Patch windows around the changes (default) or always the whole Document. */
  windows?: boolean;
}

function patchDocument(text: string, doc: Document, current: unknown, next: unknown, style?: Style): string {
  if (doc.contents === null || doc.contents === undefined) {
    return (text === '' || text.endsWith('\n') ? text : `${text}\n`) + stringify(next, { lineWidth: 0, aliasDuplicateObjects: false });
  }
  const patcher = new Patcher(text, style ?? detectStyle(doc, text));
  patcher.diff(doc.contents as Node, current, next, null);
  return applySplices(text, patcher.splices);
}

function patchWindows(text: string, current: unknown, next: unknown): string | undefined {
  const windows = changeWindows(text, current, next);
  if (!windows) return undefined;
  const style = detectStyleFromText(text);
  const splices: Splice[] = [];
  for (const w of windows) {
    const doc = parseDocument(w.text, { uniqueKeys: false });
    if (doc.errors.length > 0 || !isDeepStrictEqual(doc.toJS({ maxAliasCount: 1000 }), w.before)) return undefined;
    splices.push({ start: w.start, end: w.end, text: patchDocument(w.text, doc, w.before, w.after, style) });
  }
  return applySplices(text, splices);
}

/**
 * `text` changed to hold `next`, touching only the bytes of what differs. Throws a plain Error
 * (a bug) if the result would not read back as `next`.
 */
export function patchYaml(text: string, next: unknown, options: PatchOptions = {}): string {
  const document = options.document ?? (() => parseDocument(text, { uniqueKeys: false }));
  const current: unknown = options.current !== undefined ? options.current : document().toJS({ maxAliasCount: 1000 });
  if (isDeepStrictEqual(current, next)) return text;
  if (options.windows !== false) {
    const out = patchWindows(text, current, next);
    if (out !== undefined && readsBackAs(out, next)) return out;
  }
  const out = patchDocument(text, document(), current, next);
  if (!readsBackAs(out, next)) throw new Error('yaml patch: the edited text does not read back as intended');
  return out;
}

/** Indentation step and sequence style read from the text, for windows that show too little. */
export function detectStyleFromText(text: string): Style {
  const style: Style = { indent: 2, indentSeq: true };
  const lines = text.split('\n', 2000);
  let indentFound = false;
  let seqFound = false;
  for (let i = 0; i < lines.length - 1 && !(indentFound && seqFound); i++) {
    const line = lines[i] as string;
    if (!/^ *[^\s#-][^#]*:\s*(#.*)?$/.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    const next = lines.slice(i + 1).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    if (next === undefined) continue;
    const nextIndent = next.length - next.trimStart().length;
    if (next.trimStart().startsWith('- ') || next.trim() === '-') {
      if (!seqFound) { style.indentSeq = nextIndent > indent; seqFound = true; }
    } else if (!indentFound && nextIndent > indent) {
      style.indent = nextIndent - indent;
      indentFound = true;
    }
  }
  return style;
}

/** Read-back check with the fast parser (same YAML 1.2 core schema); the Document on doubt. */
function readsBackAs(text: string, expected: unknown): boolean {
  try {
    if (isDeepStrictEqual(jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA }), expected)) return true;
  } catch {
    // fall through to the authoritative parser
  }
  const check = parseDocument(text, { uniqueKeys: true });
  return check.errors.length === 0 && isDeepStrictEqual(check.toJS({ maxAliasCount: 1000 }), expected);
}
