/**
 * How long the built CLI takes to start: every `cistern` command, and the agent daemon itself,
 * pays this before doing anything, so it is part of discovery and registration latency too.
 * Measures the process from spawn to exit for `--version` (start-up only) and `agent --help`
 * (the agent's command path), with the real bin/cistern and dist/ (`npm run build` first).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CaseSuite } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = resolve(ROOT, 'bin/cistern');

const cli = (args: string[]) => () => execFileSync(process.execPath, [BIN, ...args], { stdio: 'ignore', timeout: 20_000 });

export const cliSuite: CaseSuite = {
  name: 'cli',
  description: 'start-up of the built CLI, spawn to exit',
  setup() {
    if (!existsSync(resolve(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  },
  cases: () => [
    { name: 'cistern --version', fn: cli(['--version']), iterations: 20, time: 0 },
    { name: 'cistern agent --help', fn: cli(['agent', '--help']), iterations: 20, time: 0 },
  ],
  // A command should answer well within a second on a 2-core machine.
  goals: [
    { case: 'cistern --version', metric: 'p99', maxMs: 1_000 },
    { case: 'cistern agent --help', metric: 'p99', maxMs: 1_000 },
  ],
};
