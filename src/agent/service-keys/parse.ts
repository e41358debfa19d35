/**
 * The admin's service-keys file (`cistern agent --service-keys FILE`), checked in steps — YAML
 * syntax, then the schema — with every problem at once, each with its line and field. Pure: text
 * in, keys and problems out. JSON is YAML, so either may be given:
 *
 *   sonarr: { key: 0123abcd… }            # an API key: header or query, as the catalog says
 *   transmission: { user: admin, password: … }   # HTTP Basic
 *
 * Keys and passwords never appear in a problem: messages name the field, never its value, and
 * YAML syntax errors give the library's error code, not its excerpt of the line.
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { lineIndex, nodeAt } from '../../inventory/analyze.js';
import type { ProbeCredential } from '../supervision/probe-runner.js';

export interface KeyFileProblem {
  line: number;
  /** The field, e.g. `sonarr.key`; empty for the file as a whole. */
  field: string;
  message: string;
}

export interface ParsedKeyFile {
  keys: Map<string, ProbeCredential>;
  problems: KeyFileProblem[];
}

const SERVICE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;

const entrySchema = z.strictObject({
  key: z.string().min(1, { error: 'is empty' }).optional(),
  user: z.string().min(1, { error: 'is empty' }).optional(),
  password: z.string().optional(),
}, { error: 'expected a map: { key: … } or { user: …, password: … }' }).superRefine((entry, ctx) => {
  if (entry.key === undefined && entry.user === undefined) ctx.addIssue({ code: 'custom', message: 'needs key, or user and password' });
  if (entry.key !== undefined && (entry.user !== undefined || entry.password !== undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give key, or user and password, not both' });
  }
});

const fileSchema = z.record(
  z.string().regex(SERVICE_NAME, { error: 'is not a service name' }),
  entrySchema,
  { error: 'expected a map of service names' },
);

export function parseServiceKeys(text: string): ParsedKeyFile {
  // failsafe: every scalar is a string as written, so a key like 0123 or 1e10 is not turned into a number.
  const doc = parseDocument(text, { schema: 'failsafe', prettyErrors: false, uniqueKeys: true, logLevel: 'silent' });
  const position = lineIndex(text);
  if (doc.errors.length > 0) {
    return {
      keys: new Map(),
      problems: doc.errors.map((error) => ({ line: position(error.pos[0]).line, field: '', message: `not valid YAML or JSON (${error.code})` })),
    };
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      keys: new Map(),
      problems: parsed.error.issues.map((issue) => {
        const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
        const offset = nodeAt(doc, path, issue.code === 'invalid_key')?.range?.[0];
        const field = path.join('.');
        const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (fields: key, user, password)` : issue.message;
        return { line: offset === undefined ? 1 : position(offset).line, field, message };
      }),
    };
  }
  const keys = new Map<string, ProbeCredential>();
  for (const [service, entry] of Object.entries(parsed.data)) {
    keys.set(service, entry.key !== undefined ? { key: entry.key } : { user: entry.user as string, password: entry.password ?? '' });
  }
  return { keys, problems: [] };
}
