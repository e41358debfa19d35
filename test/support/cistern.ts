/**
 * Runs the built `bin/cistern` as a real process. `npm test` builds first; a missing build is
 * a clear failure here, not a skipped test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = resolve(ROOT, 'bin/cistern');

export function assertBuilt(): void {
  if (!existsSync(resolve(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
}

export interface ProcessResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function runCistern(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<ProcessResult> {
  assertBuilt();
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: timeoutMs }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
      done({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}

export function spawnCistern(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  assertBuilt();
  return spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
