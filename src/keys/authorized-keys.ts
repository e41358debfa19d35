/**
 * The Cistern-managed block of an authorized_keys file. Pure: the current text and the wanted
 * keys in, the new text out.
 *
 * Cistern owns only the lines from its BEGIN marker to its END marker. The block is replaced in
 * place, or appended when there is none; every other byte of the file is kept, line endings
 * (LF or CRLF) and a missing final newline included. Applying the same keys twice gives the
 * same text as applying them once. A file whose markers are not exactly one BEGIN followed by
 * one END is refused rather than guessed at: a wrong guess could delete a person's keys.
 */
import { CisternError } from '../errors.js';

export const BEGIN_MARKER = '# BEGIN cistern managed keys — do not edit';
export const END_MARKER = '# END cistern managed keys';
const BEGIN = /^#\s*BEGIN cistern managed keys\b/;
const END = /^#\s*END cistern managed keys\b/;
const NAME_COMMENT = /^#\s*key:\s*(\S+)/;

export interface ManagedKey {
  name: string;
  /** An OpenSSH public key line: `type base64 [comment]`. */
  key: string;
}

export interface BlockKey {
  /** From the `# key: NAME` line before the key, when there is one. */
  name: string | undefined;
  /** `type base64`: what identifies the key, whatever its comment. */
  material: string;
}

export interface AuthorizedKeysUpdate {
  text: string;
  changed: boolean;
  /** Keys in the new block whose material the old block did not hold. */
  added: ManagedKey[];
  /** Keys of the old block whose material the new block does not hold. */
  removed: BlockKey[];
}

interface Line { content: string; eol: '' | '\n' | '\r\n' }

function splitLines(text: string): Line[] {
  return (text.match(/[^\n]*\n|[^\n]+$/g) ?? []).map((segment) => {
    if (segment.endsWith('\r\n')) return { content: segment.slice(0, -2), eol: '\r\n' };
    if (segment.endsWith('\n')) return { content: segment.slice(0, -1), eol: '\n' };
    return { content: segment, eol: '' };
  });
}

const material = (keyLine: string) => keyLine.trim().split(/[ \t]+/).slice(0, 2).join(' ');

/** Where the block is: indices of its BEGIN and END lines, or undefined when there is none. */
function findBlock(lines: readonly Line[]): { begin: number; end: number } | undefined {
  const begins: number[] = [];
  const ends: number[] = [];
  lines.forEach((line, i) => {
    if (BEGIN.test(line.content.trim())) begins.push(i);
    else if (END.test(line.content.trim())) ends.push(i);
  });
  const at = (indices: number[]) => indices.map((i) => i + 1).join(', ');
  const hint = `keep one "${BEGIN_MARKER}" line followed by one "${END_MARKER}" line (or remove both); the next sync rewrites what lies between them`;
  if (begins.length > 1) {
    throw new CisternError('E_AUTHORIZED_KEYS', `authorized_keys has ${begins.length} BEGIN markers of the cistern block (lines ${at(begins)})`, { hint });
  }
  const begin = begins[0];
  const end = ends[0];
  if (begin === undefined && end === undefined) return undefined;
  if (begin === undefined || end === undefined || ends.length > 1 || end < begin) {
    const found = [...begins.map((i) => `BEGIN at line ${i + 1}`), ...ends.map((i) => `END at line ${i + 1}`)].join(', ');
    throw new CisternError('E_AUTHORIZED_KEYS', `authorized_keys has unbalanced markers of the cistern block: ${found}`, { hint });
  }
  return { begin, end };
}

/** The keys of the managed block of `text` (empty when there is no block). */
export function managedKeys(text: string): BlockKey[] {
  const lines = splitLines(text);
  const block = findBlock(lines);
  if (!block) return [];
  const keys: BlockKey[] = [];
  let name: string | undefined;
  for (const line of lines.slice(block.begin + 1, block.end)) {
    const content = line.content.trim();
    if (content === '') continue;
    if (content.startsWith('#')) {
      name = NAME_COMMENT.exec(content)?.[1];
      continue;
    }
    keys.push({ name, material: material(content) });
    name = undefined;
  }
  return keys;
}

function assertOneLine(key: ManagedKey): void {
  // Inventory validation guarantees this; a line break here would let a key inject lines.
  if (/[\r\n]/.test(key.key) || /[\r\n]/.test(key.name)) throw new Error(`key ${JSON.stringify(key.name)} spans more than one line`);
}

/** The text of `current` with its managed block holding exactly `keys`, in order. */
export function updateAuthorizedKeys(current: string, keys: readonly ManagedKey[]): AuthorizedKeysUpdate {
  keys.forEach(assertOneLine);
  const lines = splitLines(current);
  const block = findBlock(lines);
  const before = block ? managedKeys(current) : [];
  const wanted = new Set(keys.map((k) => material(k.key)));
  const had = new Set(before.map((k) => k.material));
  const added = keys.filter((k) => !had.has(material(k.key)));
  const removed = before.filter((k) => !wanted.has(k.material));
  if (!block && keys.length === 0) return { text: current, changed: false, added, removed };

  const body = [BEGIN_MARKER, ...keys.flatMap((k) => [`# key: ${k.name}`, k.key.trim()]), END_MARKER];
  let text: string;
  if (block) {
    const eol = (lines[block.begin] as Line).eol;
    const last = (lines[block.end] as Line).eol;
    const join = (part: readonly Line[]) => part.map((l) => l.content + l.eol).join('');
    text = join(lines.slice(0, block.begin)) + body.join(eol) + last + join(lines.slice(block.end + 1));
  } else {
    const eol = lines.find((l) => l.eol !== '')?.eol ?? '\n';
    const lastEol = lines.at(-1)?.eol;
    // A file without a final newline keeps ending without one: the block goes after a new line break.
    text = lastEol === '' ? current + eol + body.join(eol) : current + body.join(eol) + eol;
  }
  return { text, changed: text !== current, added, removed };
}
