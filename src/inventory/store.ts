/**
 * The inventory file on disk: finding it, loading it, and editing it safely. Edits take an
 * inter-process lock, re-read the file under the lock (so concurrent writers never lose each
 * other's changes), patch only the bytes that change, validate the result, and replace the file
 * atomically — or write nothing.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { CisternError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { patchYaml } from '../yaml/patch.js';
import { analyze, type Analysis } from './analyze.js';
import { formatFinding } from './findings.js';

export const DEFAULT_INVENTORY = 'inventory.yaml';

export function inventoryPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env.CISTERN_INVENTORY ?? DEFAULT_INVENTORY);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CisternError('E_FILE_NOT_FOUND', `inventory file ${file} does not exist`, {
        hint: 'pass --file PATH, set CISTERN_INVENTORY, or run in the folder that holds inventory.yaml',
      });
    }
    throw new CisternError('E_FILE_READ', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

export async function loadInventory(file: string): Promise<Analysis> {
  return analyze(await readText(file), file);
}

/** Loads and insists on a valid inventory, for commands that act on it. */
export async function loadValidInventory(file: string): Promise<Analysis> {
  const analysis = await loadInventory(file);
  if (!analysis.ok) throw invalidError(analysis, 'E_INVENTORY_INVALID', `${file} has errors`);
  return analysis;
}

function invalidError(analysis: Analysis, code: 'E_INVENTORY_INVALID' | 'E_INVENTORY_UNCHANGED_INVALID', message: string): CisternError {
  const errors = analysis.findings.filter((f) => f.severity === 'error');
  return new CisternError(code, `${message}:\n${errors.map(formatFinding).join('\n')}`, {
    hint: code === 'E_INVENTORY_INVALID' ? `run \`cistern inventory validate --file ${analysis.file}\`` : undefined,
    details: { findings: errors },
  });
}

/**
 * Failpoint for tests of the lock and of crash safety: `CISTERN_FAILPOINT_EDIT_DELAY_MS` holds
 * an edit between read and write, widening the window in which another writer or a kill lands.
 */
async function failpointDelay(): Promise<void> {
  const ms = Number(process.env.CISTERN_FAILPOINT_EDIT_DELAY_MS ?? 0);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

export type Mutation = (data: Record<string, unknown>, current: Analysis) => void | Promise<void>;

export interface EditResult {
  changed: boolean;
  analysis: Analysis;
}

export interface EditOptions {
  /** How long to wait for another writer's lock, in ms. */
  lockTimeoutMs?: number;
}

export async function withInventoryLock<T>(file: string, work: () => Promise<T>, options: EditOptions = {}): Promise<T> {
  const timeout = options.lockTimeoutMs ?? 10_000;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      realpath: false,
      stale: 10_000,
      update: 2_000,
      retries: { retries: Math.ceil(timeout / 50), minTimeout: 10, maxTimeout: 50, factor: 1.3, randomize: true },
    });
  } catch (error) {
    throw new CisternError('E_LOCK', `another process is editing ${file} and did not finish in ${timeout} ms`, {
      cause: error, hint: `if no cistern process runs, remove ${file}.lock`,
    });
  }
  try {
    return await work();
  } finally {
    await release();
  }
}

export async function editInventory(file: string, mutate: Mutation, options: EditOptions = {}): Promise<EditResult> {
  return withInventoryLock(file, async () => {
    const current = analyze(await readText(file), file);
    if (!current.parsed) throw invalidError(current, 'E_INVENTORY_INVALID', `${file} cannot be parsed, so it cannot be edited`);
    const data = structuredClone((current.raw ?? {}) as Record<string, unknown>);
    await mutate(data, current);
    await failpointDelay();
    const text = patchYaml(current.text, data, { current: current.raw, document: () => current.document().doc });
    if (text === current.text) return { changed: false, analysis: current };
    const next = analyze(text, file);
    if (!next.ok) throw invalidError(next, 'E_INVENTORY_UNCHANGED_INVALID', `the change would leave ${file} invalid, so nothing was written`);
    await writeFileAtomic(file, text);
    return { changed: true, analysis: next };
  }, options);
}
