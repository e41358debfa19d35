/**
 * The CLI shell: builds the commander program from command definitions, and owns everything
 * around a handler — parsing, input validation, text or `--json` output, exit codes (0 success,
 * 1 failure, 2 usage error) and the reporting of bugs.
 */
import { Command, CommanderError } from 'commander';
import { CisternError, isCisternError } from '../errors.js';
import { VERSION } from '../version.js';
import type { CommandDef, GroupDef } from './command.js';
import { paint, type CommandContext } from './context.js';

const SUCCESS_CODES = new Set(['commander.helpDisplayed', 'commander.version']);

export interface Registry { groups: readonly GroupDef[]; commands: readonly CommandDef<never>[] }
interface RunState { json: boolean; debug: boolean; exitCode?: number }

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function buildProgram(registry: Registry, ctx: CommandContext, state: RunState): Command {
  const program = new Command('cistern')
    .description('Cistern: a fleet manager for small home media servers.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--debug', 'show stack traces of internal errors')
    .option('--no-color', 'never color the output')
    .helpCommand(true)
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(paint(ctx, 'red', s)),
    });

  const nodes = new Map<string, Command>([['', program]]);
  const parentOf = (path: readonly string[]) => {
    const parent = nodes.get(path.slice(0, -1).join(' '));
    if (!parent) throw new Error(`command ${path.join(' ')} has no parent group`);
    return parent;
  };
  for (const group of registry.groups) {
    const cmd = parentOf(group.path).command(group.path.at(-1) as string).description(group.summary);
    if (group.help) cmd.addHelpText('after', `\n${group.help}`);
    nodes.set(group.path.join(' '), cmd);
  }
  for (const def of registry.commands as readonly CommandDef<Record<string, unknown>>[]) {
    const cmd = parentOf(def.path).command(def.path.at(-1) as string).description(def.summary);
    for (const arg of def.args ?? []) {
      const name = `${arg.name}${arg.variadic ? '...' : ''}`;
      cmd.argument(arg.required === false ? `[${name}]` : `<${name}>`, arg.description);
    }
    for (const opt of def.options ?? []) cmd.option(opt.flags, opt.description, opt.default as string | boolean | string[] | undefined);
    if (def.json !== false) cmd.option('--json', 'print the result as JSON');
    if (def.help) cmd.addHelpText('after', `\n${def.help}`);
    cmd.action(async (...params: unknown[]) => {
      const self = params.at(-1) as Command;
      const options = self.optsWithGlobals() as Record<string, unknown>;
      state.json = options.json === true;
      state.debug = options.debug === true;
      ctx.color = ctx.color && options.color !== false && !state.json;
      const input: Record<string, unknown> = { ...self.opts() };
      (def.args ?? []).forEach((arg, i) => { input[arg.name] = params[i]; });
      const parsed = def.input.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const key = String(issue?.path[0] ?? '');
        const isArg = (def.args ?? []).some((a) => a.name === key);
        const label = key === '' ? 'input' : isArg ? `<${key}>` : `--${kebab(key)}`;
        throw new CisternError('E_USAGE', `${label}: ${issue?.message ?? 'invalid'}`, { exitCode: 2, hint: `see \`cistern ${def.path.join(' ')} --help\`` });
      }
      const out = await def.handler(parsed.data, ctx);
      if (state.json) ctx.stdout.write(`${JSON.stringify(out.data, null, 2)}\n`);
      else if (out.text !== undefined) ctx.stdout.write(out.text.endsWith('\n') || out.text === '' ? out.text : `${out.text}\n`);
      else ctx.stdout.write(`${JSON.stringify(out.data, null, 2)}\n`);
      state.exitCode = out.exitCode ?? 0;
    });
    nodes.set(def.path.join(' '), cmd);
  }
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], ctx: CommandContext, registry: Registry): Promise<number> {
  const state: RunState = {
    json: argv.includes('--json'),
    debug: argv.includes('--debug'),
  };
  const program = buildProgram(registry, ctx, state);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode ?? 0;
  } catch (error) {
    return reportError(error, ctx, state);
  }
}

function reportError(error: unknown, ctx: CommandContext, state: RunState): number {
  if (error instanceof CommanderError) {
    // commander printed its own message (with "did you mean") or the help already.
    return SUCCESS_CODES.has(error.code) ? 0 : 2;
  }
  if (isCisternError(error)) {
    if (state.json) {
      ctx.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, hint: error.hint, details: error.details } }, null, 2)}\n`);
    } else {
      ctx.stderr.write(`${paint(ctx, 'red', `error[${error.code}]`)}: ${error.message}\n`);
      if (error.hint) ctx.stderr.write(`${paint(ctx, 'dim', 'hint')}: ${error.hint}\n`);
    }
    return error.exitCode;
  }
  const bug = error instanceof Error ? error : new Error(String(error));
  ctx.stderr.write(`${paint(ctx, 'red', 'internal error')}, please report: ${bug.message}\n`);
  ctx.stderr.write(state.debug ? `${bug.stack ?? ''}\n` : 'run again with --debug for the stack trace\n');
  return 1;
}
