import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CisternError } from '../errors.js';
import { cli } from '../testing/cli.js';
import { defineCommand } from './command.js';
import { commands, groups } from './commands/index.js';
import type { CommandContext } from './context.js';
import { runCli } from './program.js';

describe('the cistern CLI shell', () => {
  const paths = [...groups.map((g) => g.path), ...commands.map((c) => c.path)];

  it.each(paths.map((p) => [p.join(' ')]))('"%s --help" prints help and exits 0', async (path) => {
    const run = await cli([...path.split(' '), '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: cistern ${path}`);
  });

  it('offers --json on every command whose output is data', () => {
    for (const command of commands) {
      // The schema is JSON already; the daemons run until stopped and print no data.
      if (['inventory schema', 'controller', 'agent', 'up'].includes(command.path.join(' '))) continue;
      expect(command.json, command.path.join(' ')).not.toBe(false);
    }
  });

  it('suggests the closest command for a typo, with exit 2', async () => {
    const run = await cli(['inventroy', 'list']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'inventroy'");
    expect(run.stderr).toContain('Did you mean inventory?');
    const sub = await cli(['inventory', 'lsit']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('Did you mean list?');
  });

  it('suggests the closest flag for a typo, with exit 2', async () => {
    const run = await cli(['inventory', 'list', '--jsn']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Did you mean --json?');
  });

  it('treats a missing argument and a bare group as usage errors', async () => {
    expect((await cli(['inventory', 'show'])).code).toBe(2);
    expect((await cli(['inventory'])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
  });

  it('prints its version', async () => {
    const run = await cli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('reports a bug as an internal error, with the stack only behind --debug', async () => {
    const boom = defineCommand({ path: ['boom'], summary: 'fails', input: z.object({}), async handler() { throw new Error('kaput'); } });
    const nice = defineCommand({ path: ['nice'], summary: 'fails nicely', input: z.object({}), async handler() { throw new CisternError('E_LOCK', 'busy', { hint: 'wait' }); } });
    const registry = { groups: [], commands: [boom, nice] as never[] };
    const run = async (argv: string[]) => {
      let err = '';
      const ctx = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: {}, cwd: '/', interactive: false, color: false, prompt: async () => '' } satisfies CommandContext;
      return { code: await runCli(argv, ctx, registry), err };
    };
    const plain = await run(['boom']);
    expect(plain.code).toBe(1);
    expect(plain.err).toContain('internal error, please report: kaput');
    expect(plain.err).not.toContain('at ');
    expect((await run(['boom', '--debug'])).err).toMatch(/Error: kaput\n\s+at /);
    const handled = await run(['nice']);
    expect(handled.err).toBe('error[E_LOCK]: busy\nhint: wait\n');
  });
});
