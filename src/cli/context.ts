/**
 * What a command may touch of the outside world: passed in, so tests capture output and answer
 * prompts without a terminal.
 */
import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import { styleText } from 'node:util';

export interface Output { write(text: string): unknown }

export interface CommandContext {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Standard input and output are both a terminal: prompts are allowed. */
  interactive: boolean;
  color: boolean;
  /** Asks a question on the terminal; only called when `interactive`. */
  prompt(question: string): Promise<string>;
}

export type Style = Parameters<typeof styleText>[0];

export function paint(ctx: Pick<CommandContext, 'color'>, style: Style, text: string): string {
  // The context already decided whether colors fit (a terminal, no NO_COLOR): styleText must
  // not second-guess it against process.stdout, which is not the output in tests.
  return ctx.color ? styleText(style, text, { validateStream: false }) : text;
}

export function processContext(): CommandContext {
  const stdin = process.stdin as Readable & { isTTY?: boolean };
  const interactive = Boolean(stdin.isTTY && process.stdout.isTTY);
  const color = Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    interactive,
    color,
    async prompt(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return (await rl.question(question)).trim();
      } finally {
        rl.close();
      }
    },
  };
}
