/**
 * Reading an application's own API key out of the text of its config file, as the catalog's
 * `key_source` describes it. Pure: text in, key (or nothing) out; the agent reads the file
 * (src/agent/service-keys/). A key is never put in a thrown error: every failure is "no key".
 *
 * - xml: the *arr apps' config.xml, written by .NET's XDocument: a flat `<Config>` of simple
 *   elements. The app itself reads the one element of that name and trims it (Sonarr
 *   ConfigFileProvider.GetValue), so that is what is done here, with a small scanner rather than
 *   an XML library: one flat element needs no dependency, and a scanner that knows comments,
 *   CDATA and the five entities reads every file XDocument writes.
 * - ini: SABnzbd's sabnzbd.ini is ConfigObj, not plain INI: `[[name]]` opens a subsection,
 *   values may be quoted, and `#` starts a comment. The npm `ini` package would read `[[name]]`
 *   as a section of its own; a line scanner that knows those three rules finds `[misc] api_key`.
 * - yaml: Bazarr's config.yaml, through the `yaml` library with the failsafe schema: every
 *   scalar is a string, as written. Bazarr writes with PyYAML (YAML 1.1), which leaves a key
 *   like `1234e5` unquoted; the 1.2 core schema would read that as a number.
 */
import { isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { KeySource, ServiceDefinition } from './schema.js';

/** The key, trimmed, or undefined when the text has no usable one. */
export function readKeyField(text: string, format: KeySource['format'], field: string): string | undefined {
  const raw = format === 'xml' ? xmlElement(text, field) : format === 'ini' ? iniValue(text, field) : yamlValue(text, field);
  const key = raw?.trim();
  return key ? key : undefined;
}

/** Where the definition says its key file is, or undefined when it names none (or a relative file with no state_dir). */
export function keySourcePath(definition: Pick<ServiceDefinition, 'key_source' | 'state_dir'>): string | undefined {
  const source = definition.key_source;
  if (!source) return undefined;
  if (isAbsolute(source.file)) return source.file;
  return definition.state_dir ? join(definition.state_dir, source.file) : undefined;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

/** The text of the first element named `name`, outside comments; undefined when absent, empty or not simple text. */
export function xmlElement(text: string, name: string): string | undefined {
  const plain = text.replace(/<!--[\s\S]*?-->/g, '');
  const open = new RegExp(`<${name}(\\s[^>]*)?(/?)>`, 'g');
  const match = open.exec(plain);
  if (!match || match[2] === '/') return undefined;
  const start = match.index + match[0].length;
  const end = plain.indexOf(`</${name}>`, start);
  if (end === -1) return undefined;
  const inner = plain.slice(start, end);
  const cdata = /^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$/.exec(inner);
  if (cdata) return cdata[1];
  // A nested element is not a key (a different file than the catalog expects).
  if (inner.includes('<')) return undefined;
  return decodeEntities(inner);
}

/** `section.key` of a ConfigObj file: only in the top-level `[section]`, not in its `[[subsections]]`. */
export function iniValue(text: string, field: string): string | undefined {
  const dot = field.indexOf('.');
  if (dot === -1) return undefined;
  const section = field.slice(0, dot);
  const key = field.slice(dot + 1);
  let current: string | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^(\[+)\s*([^\]]*?)\s*(\]+)/.exec(line);
    if (header) {
      // Depth 1 is a section; deeper brackets are subsections of it, where the key is not.
      current = header[1]?.length === 1 ? (header[2] ?? '') : null;
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf('=');
    if (eq === -1 || line.slice(0, eq).trim() !== key) continue;
    return unquote(line.slice(eq + 1).trim());
  }
  return undefined;
}

function unquote(value: string): string {
  const quote = value[0];
  if (quote === '"' || quote === "'") {
    const end = value.indexOf(quote, 1);
    return end === -1 ? value.slice(1) : value.slice(1, end);
  }
  // An unquoted value ends at an inline comment.
  const hash = value.indexOf(' #');
  return hash === -1 ? value : value.slice(0, hash);
}

function yamlValue(text: string, field: string): string | undefined {
  let node: unknown;
  try {
    // Silent: the library's warnings would print parts of the file, the key among them.
    node = parseYaml(text, { schema: 'failsafe', logLevel: 'silent' });
  } catch {
    return undefined;
  }
  for (const part of field.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}
