/** Runs the CLI in-process with captured output and scripted prompt answers (tests only). */
import { commands, groups } from '../cli/commands/index.js';
import type { CommandContext } from '../cli/context.js';
import { runCli } from '../cli/program.js';

export interface CliRun { code: number; stdout: string; stderr: string; prompts: string[] }

export interface CliOptions { cwd?: string; env?: NodeJS.ProcessEnv; interactive?: boolean; answers?: string[] }

export async function cli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const prompts: string[] = [];
  const answers = [...(options.answers ?? [])];
  const ctx: CommandContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    interactive: options.interactive ?? false,
    color: false,
    async prompt(question) {
      prompts.push(question);
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected prompt: ${question}`);
      return answer;
    },
  };
  const code = await runCli(args, ctx, { groups, commands });
  return { code, stdout, stderr, prompts };
}
