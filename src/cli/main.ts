import { commands, groups } from './commands/index.js';
import { processContext } from './context.js';
import { runCli } from './program.js';

// `cistern … | head` closes the pipe early: stop quietly, as other Unix tools do, instead of
// crashing on the unhandled write error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await runCli(process.argv.slice(2), processContext(), { groups, commands });
