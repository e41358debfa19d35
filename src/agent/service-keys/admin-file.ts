/**
 * Reads the admin's service-keys file. Like ssh with a private key, it refuses a file that its
 * group or others may read or write: keys to the whole media stack must not be one `cat` away
 * for every account on the box. Problems are one CisternError naming the file, each line and
 * field (never a value).
 */
import { readFile, stat } from 'node:fs/promises';
import { CisternError } from '../../errors.js';
import type { ProbeCredential } from '../supervision/probe-runner.js';
import { parseServiceKeys } from './parse.js';

export interface AdminKeys {
  file: string;
  keys: ReadonlyMap<string, ProbeCredential>;
  /** The file's identity when read: a change of it means read again. */
  signature: string;
}

export function fileSignature(info: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

export async function loadServiceKeys(file: string): Promise<AdminKeys> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new CisternError('E_SERVICE_KEYS', `${file}: cannot read the service keys file (${code})`, { hint: 'give --service-keys the path of a YAML or JSON file of SERVICE: { key: … }', cause: error });
  }
  if (!info.isFile()) throw new CisternError('E_SERVICE_KEYS', `${file}: the service keys file is not a regular file`);
  const mode = info.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CisternError('E_SERVICE_KEYS', `${file}: the service keys file may be read or written by its group or others (mode ${mode.toString(8).padStart(4, '0')}); refusing it`, {
      hint: `chmod 600 ${file}`,
    });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CisternError('E_SERVICE_KEYS', `${file}: cannot read the service keys file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
  const { keys, problems } = parseServiceKeys(text);
  if (problems.length > 0) {
    const lines = problems.map((p) => `${file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`);
    throw new CisternError('E_SERVICE_KEYS', `the service keys file has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${lines.join('\n')}`, {
      hint: 'each entry is SERVICE: { key: … } or SERVICE: { user: …, password: … }',
      details: { file, problems },
    });
  }
  return { file, keys, signature: fileSignature(info) };
}
