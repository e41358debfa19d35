/**
 * Validation in steps — YAML syntax, schema, unknown keys, cross-field rules, groups, templates —
 * collecting every finding with its file:line:column. Pure: takes the text, touches no disk.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { hasErrors, sortFindings, type FieldPath, type Finding, type FindingInput } from './findings.js';
import { resolveGroups } from './groups.js';
import { checkRules } from './rules.js';
import type { Inventory } from './schema.js';
import { checkSchema, unknownKeys } from './schema-findings.js';
import { checkTemplates } from './templates.js';

export interface Analysis {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The file as plain data, unknown keys included: the base for edits. */
  raw: unknown;
  /** The typed value (salvaged when there were schema errors). */
  inventory: Inventory;
  findings: Finding[];
  ok: boolean;
}

export function parseYaml(text: string): { doc: Document.Parsed; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: dates stay strings, `yes`/`no` stay strings, as in the original tools.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, keepSourceTokens: false, uniqueKeys: true, strict: true });
  return { doc, lineCounter };
}

export function analyze(text: string, file: string): Analysis {
  const { doc, lineCounter } = parseYaml(text);
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
  const syntaxBroken = doc.errors.some((e) => e.code !== 'DUPLICATE_KEY');
  const raw: unknown = syntaxBroken ? undefined : doc.toJS({ maxAliasCount: 1000 });
  const schema = checkSchema(raw);
  const resolution = resolveGroups(schema.value);
  const inputs: FindingInput[] = [
    ...schema.findings,
    ...unknownKeys(raw),
    ...checkRules(schema.value).filter((f) => !mentionsDropped(f, schema.droppedServers)),
    ...resolution.findings,
    ...checkTemplates(schema.value),
  ];
  for (const input of inputs) findings.push(locate(input, doc, lineCounter, file));
  sortFindings(findings);
  return { file, text, doc, lineCounter, raw, inventory: schema.value, findings, ok: !hasErrors(findings) };
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

function locate(input: FindingInput, doc: Document, lineCounter: LineCounter, file: string): Finding {
  const node = nodeAt(doc, input.path, input.code === 'unknown-key' || input.code === 'invalid-name');
  const offset = node?.range?.[0];
  if (offset === undefined) return { ...input, file, line: 1, column: 1 };
  const { line, col } = lineCounter.linePos(offset);
  return { ...input, file, line, column: col };
}
