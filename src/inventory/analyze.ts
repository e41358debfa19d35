/**
 * Validation in steps — YAML syntax, schema, unknown keys, cross-field rules, groups, templates —
 * collecting every finding with its file:line:column. Pure: takes the text, touches no disk.
 *
 * Speed: the `yaml` library's Document (comments, node ranges) costs about ten times what a
 * plain parse does, so a file is first read with js-yaml's YAML 1.2 core schema — the same
 * schema the Document uses — and the Document is built only when it is needed: to place
 * findings on lines, to report syntax errors, and for edits.
 */
import jsyaml from 'js-yaml';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { hasErrors, sortFindings, type FieldPath, type Finding, type FindingInput } from './findings.js';
import { resolveGroups } from './groups.js';
import { checkRules } from './rules.js';
import type { Inventory } from './schema.js';
import { checkSchema, unknownKeys } from './schema-findings.js';
import { checkSshKeys } from './ssh-key-rules.js';
import { checkTemplates } from './templates.js';

export interface ParsedDocument { doc: Document.Parsed }

/** 1-based line and column of an offset; built once per text, far cheaper than a LineCounter. */
export function lineIndex(text: string): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] ?? 0) + 1 };
  };
}

export interface Analysis {
  file: string;
  text: string;
  /** The comment-preserving Document, built on first use. */
  document(): ParsedDocument;
  /** The file parses as YAML (findings may still hold schema or rule errors). */
  parsed: boolean;
  /** The file as plain data, unknown keys included (undefined when it does not parse). */
  raw: unknown;
  /** The typed value (salvaged when there were schema errors). */
  inventory: Inventory;
  findings: Finding[];
  ok: boolean;
}

/**
 * The Document of `text`. YAML 1.2 core schema: dates and `yes`/`no` stay strings. The library's
 * duplicate-key check is quadratic in a map's size; it is skipped (`knownUnique`) when the fast
 * parser, which refuses duplicate keys, has already read the text.
 */
export function parseYaml(text: string, knownUnique = false): ParsedDocument {
  // A LineCounter only for syntax errors' positions; findings use lineIndex.
  const lineCounter = knownUnique ? undefined : new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: !knownUnique, keepSourceTokens: false, uniqueKeys: !knownUnique, strict: true });
  return { doc };
}

/** Plain data through the fast parser, or undefined when it finds any syntax problem. */
export function fastParse(text: string): { value: unknown } | undefined {
  try {
    return { value: jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, json: false }) };
  } catch {
    return undefined;
  }
}

function memo<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export function analyze(text: string, file: string): Analysis {
  const fast = fastParse(text);
  if (!fast) return analyzeWithDocument(text, file);
  const document = memo(() => parseYaml(text, true));
  const checks = check(fast.value);
  const position = checks.inputs.length > 0 ? lineIndex(text) : undefined;
  const findings = checks.inputs.map((input) => locate(input, document().doc, position ?? lineIndex(text), file));
  sortFindings(findings);
  return { file, text, document, parsed: true, raw: fast.value, inventory: checks.inventory, findings, ok: !hasErrors(findings) };
}

function check(raw: unknown): { inventory: Inventory; inputs: FindingInput[] } {
  const schema = checkSchema(raw);
  const resolution = resolveGroups(schema.value);
  const inputs: FindingInput[] = [
    ...schema.findings,
    ...unknownKeys(raw),
    ...checkRules(schema.value).filter((f) => !mentionsDropped(f, schema.droppedServers)),
    ...resolution.findings,
    ...checkTemplates(schema.value),
    ...checkSshKeys(schema.value),
  ];
  return { inventory: schema.value, inputs };
}

/** The slow path, for files the fast parser refuses: the Document reports what is wrong. */
function analyzeWithDocument(text: string, file: string): Analysis {
  const { doc } = parseYaml(text);
  const position = lineIndex(text);
  const findings: Finding[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const [pos] = error.linePos ?? [];
    const [first, ...excerpt] = error.message.split('\n');
    const duplicateKey = error.code === 'DUPLICATE_KEY';
    const keyName = duplicateKey ? /^\s*(?:- )?["']?([^:"']+)/.exec(text.slice(error.pos[0]).split('\n')[0] ?? '')?.[1] : undefined;
    findings.push({
      severity: doc.errors.includes(error as never) ? 'error' : 'warning',
      code: duplicateKey ? 'duplicate-name' : 'yaml-syntax',
      path: [],
      message: keyName !== undefined
        ? `duplicate name "${keyName}": each key in a map must be unique`
        : (first ?? error.message).replace(/ at line \d+, column \d+:?$/, ''),
      excerpt: excerpt.join('\n').replace(/^\n+|\n+$/g, '') || undefined,
      file,
      line: pos?.line,
      column: pos?.col,
    });
  }
  const parsed = !doc.errors.some((e) => e.code !== 'DUPLICATE_KEY');
  const raw: unknown = parsed ? doc.toJS({ maxAliasCount: 1000 }) : undefined;
  const checks = check(raw);
  for (const input of checks.inputs) findings.push(locate(input, doc, position, file));
  sortFindings(findings);
  return { file, text, document: () => ({ doc }), parsed, raw, inventory: checks.inventory, findings, ok: !hasErrors(findings) };
}

function mentionsDropped(finding: FindingInput, dropped: ReadonlySet<string>): boolean {
  if (dropped.size === 0) return false;
  if (finding.path[0] === 'servers' && dropped.has(String(finding.path[1]))) return true;
  return finding.code === 'unknown-server' && [...dropped].some((name) => finding.message.includes(`"${name}"`));
}

/** The node for a path, or the deepest ancestor that exists; `key` asks for a map key's node. */
export function nodeAt(doc: Document, path: FieldPath, key = false): Node | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === part);
      if (!pair) return last;
      if (key && i === path.length - 1) return (pair.key as Node) ?? last;
      node = pair.value;
      last = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part];
      if (!node) return last;
      last = node as Node;
    } else return last;
  }
  return last;
}

/** Findings about a key itself, placed on the key's line rather than its value's. */
const KEY_CODES = new Set(['unknown-key', 'invalid-name', 'custom-service-without-probe']);

function locate(input: FindingInput, doc: Document, position: ReturnType<typeof lineIndex>, file: string): Finding {
  const node = nodeAt(doc, input.path, KEY_CODES.has(input.code));
  const offset = node?.range?.[0];
  if (offset === undefined) return { ...input, file, line: 1, column: 1 };
  const { line, col } = position(offset);
  return { ...input, file, line, column: col };
}
