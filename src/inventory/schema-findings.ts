/**
 * Step one of validation: the zod schema. Turns zod issues into findings, salvages a typed value
 * by dropping what failed (so the cross-field rules still run), and warns about keys the format
 * does not know, with a "did you mean" for likely typos.
 */
import { z } from 'zod';
import { describeValue, type FieldPath, type FindingInput } from './findings.js';
import { didYouMean } from '../util/suggest.js';
import { inventorySchema, type Inventory } from './schema.js';

const CODE_BY_FIELD: Record<string, string> = {
  mac_address: 'invalid-mac',
  subnet: 'invalid-cidr',
  gateway: 'invalid-ip',
  dns: 'invalid-ip',
  start: 'invalid-ip',
  end: 'invalid-ip',
  hostname: 'invalid-address',
  address: 'invalid-address',
  deployed: 'invalid-date',
  last_updated: 'invalid-date',
  last_seen: 'invalid-date',
  at: 'invalid-date',
  hardware_type: 'unknown-hardware-type',
  role: 'unknown-role',
  hardware_profile: 'unknown-hardware-profile',
};

const NOUN_BY_CODE: Record<string, string> = {
  'invalid-mac': 'malformed MAC address',
  'invalid-cidr': 'malformed CIDR network',
  'invalid-ip': 'malformed IP address',
  'invalid-address': 'malformed address',
  'invalid-date': 'malformed date',
  'unknown-hardware-type': 'unknown hardware type',
  'unknown-role': 'unknown role',
  'unknown-hardware-profile': 'unknown hardware profile',
};

function codeFor(path: FieldPath): string {
  const key = [...path].reverse().find((p) => typeof p === 'string');
  return (key !== undefined && CODE_BY_FIELD[key]) || 'schema';
}

function issueToFinding(issue: z.core.$ZodIssue): FindingInput {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const input = 'input' in issue ? issue.input : undefined;
  const base = { severity: 'error' as const, code: codeFor(path), path };
  const noun = NOUN_BY_CODE[base.code];
  if (input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    const expected = issue.code === 'invalid_type' ? issue.expected : issue.message;
    return { ...base, code: 'missing-field', message: 'required field is missing', expected };
  }
  switch (issue.code) {
    case 'invalid_type':
      return { ...base, message: 'wrong type', found: describeValue(input), expected: issue.expected === 'object' ? 'a map' : issue.expected === 'array' ? 'a list' : issue.expected };
    case 'invalid_value': {
      const values = issue.values.map(String);
      return { ...base, message: noun ?? 'unknown value', found: describeValue(input), expected: `one of ${values.join(', ')}`, hint: typeof input === 'string' ? didYouMean(input, values) : undefined };
    }
    case 'invalid_key':
      return { ...base, code: 'invalid-name', message: `invalid name ${describeValue(input)}`, found: describeValue(input), expected: issue.issues[0]?.message ?? 'a valid name' };
    case 'invalid_format':
    case 'invalid_union':
      return { ...base, message: noun ?? 'malformed value', found: describeValue(input), expected: issue.message };
    default:
      return { ...base, message: issue.message, found: input === undefined ? undefined : describeValue(input) };
  }
}

function getAt(root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** Removes the value at `path`; array items are spliced out from the end so indices stay true. */
function dropAt(root: unknown, path: FieldPath): boolean {
  if (path.length === 0) return false;
  const parent = getAt(root, path.slice(0, -1));
  const key = path[path.length - 1] as string | number;
  if (parent === null || typeof parent !== 'object') return false;
  if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
  else delete (parent as Record<string, unknown>)[key];
  return true;
}

export interface SchemaResult {
  value: Inventory;
  findings: FindingInput[];
  /** Servers removed while salvaging: rules must not report references to them as unknown. */
  droppedServers: Set<string>;
}

export function checkSchema(raw: unknown): SchemaResult {
  if (raw === null || raw === undefined) return { value: {}, findings: [], droppedServers: new Set() };
  const first = inventorySchema.safeParse(raw, { reportInput: true });
  if (first.success) return { value: first.data, findings: [], droppedServers: new Set() };

  const findings = first.error.issues.map(issueToFinding);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { value: {}, findings: [{ severity: 'error', code: 'schema', path: [], message: 'the inventory must be a map of sections (servers, network, services, ...)', found: describeValue(raw), expected: 'a map' }], droppedServers: new Set() };
  }
  // Salvage: drop failing values (a missing field drops its parent) until the rest parses.
  const copy = structuredClone(raw) as Record<string, unknown>;
  const droppedServers = new Set<string>();
  let issues = first.error.issues;
  for (let pass = 0; pass < 8 && issues.length > 0; pass++) {
    const paths = issues.map((i) => {
      const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      const missing = i.code === 'invalid_type' && !('input' in i && i.input !== undefined);
      return missing || pass > 3 ? path.slice(0, -1) : path;
    });
    // Deepest and highest index first, so earlier removals do not shift later ones.
    paths.sort((a, b) => b.length - a.length || String(b.at(-1)).localeCompare(String(a.at(-1)), undefined, { numeric: true }));
    for (const path of paths) {
      if (path[0] === 'servers' && path.length === 2) droppedServers.add(String(path[1]));
      if (!dropAt(copy, path) && path.length === 0) break;
    }
    const next = inventorySchema.safeParse(copy);
    if (next.success) return { value: next.data, findings, droppedServers };
    issues = next.error.issues;
  }
  return { value: {}, findings, droppedServers };
}

/** Keys the format does not define. Kept in the file, but likely typos: warn with a suggestion. */
export function unknownKeys(raw: unknown): FindingInput[] {
  const findings: FindingInput[] = [];
  walk(inventorySchema, raw, [], findings);
  return findings;
}

function walk(schema: z.ZodType, value: unknown, path: (string | number)[], out: FindingInput[]): void {
  if (value === null || value === undefined) return;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    walk(schema.unwrap() as z.ZodType, value, path, out);
  } else if (schema instanceof z.ZodObject) {
    if (typeof value !== 'object' || Array.isArray(value)) return;
    const shape = schema.shape as Record<string, z.ZodType>;
    for (const [key, child] of Object.entries(value)) {
      const childSchema = shape[key];
      if (childSchema) walk(childSchema, child, [...path, key], out);
      else if (!path.includes('status')) {
        // `status` is machine-owned and grows with later versions; it is not a place for typos.
        const hint = didYouMean(key, Object.keys(shape));
        out.push({ severity: 'warning', code: 'unknown-key', path: [...path, key], message: `unknown key "${key}" (kept as is)`, hint });
      }
    }
  } else if (schema instanceof z.ZodRecord) {
    if (typeof value !== 'object' || Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) walk(schema.valueType as z.ZodType, child, [...path, key], out);
  } else if (schema instanceof z.ZodArray) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(schema.element as z.ZodType, item, [...path, i], out));
  } else if (schema instanceof z.ZodUnion) {
    if (typeof value !== 'object' || Array.isArray(value)) return;
    // The option the value is (a probe's `kind` picks one), else the first map-shaped option.
    const objects = (schema.options as z.ZodType[]).filter((o) => o instanceof z.ZodObject);
    const option = objects.find((o) => o.safeParse(value).success) ?? objects[0];
    if (option) walk(option, value, path, out);
  }
}
