/**
 * Every command has the same shape: a path, help, arguments and options, a zod schema for its
 * input, and a handler that returns data. The shell (program.ts) parses, validates, prints text
 * or `--json`, and maps errors to exit codes, so handlers are plain functions to test.
 */
import type { z } from 'zod';
import type { CommandContext } from './context.js';

export interface ArgumentDef {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

export interface OptionDef {
  /** Commander flag syntax: `-f, --file <path>`, `--yes`, `--tag <tag...>`. */
  flags: string;
  description: string;
  default?: string | boolean | string[];
}

export interface CommandOutput<T = unknown> {
  data: T;
  /** Human rendering of `data`; JSON is printed when absent. */
  text?: string;
  /** 1 when the command ran but found a failure (e.g. validation errors). */
  exitCode?: number;
}

export interface CommandDef<I = Record<string, unknown>> {
  path: readonly string[];
  summary: string;
  /** Longer help, with examples; shown by --help. */
  help?: string;
  args?: readonly ArgumentDef[];
  options?: readonly OptionDef[];
  /** Adds --json. True for every command whose output is data. */
  json?: boolean;
  /** Validates `{ ...options, ...args }` after parsing: arguments by their names. */
  input: z.ZodType<I>;
  handler(input: I, ctx: CommandContext): Promise<CommandOutput>;
}

export function defineCommand<I>(def: CommandDef<I>): CommandDef<I> {
  return def;
}

export interface GroupDef {
  path: readonly string[];
  summary: string;
  help?: string;
}
