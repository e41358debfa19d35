/** What the kernel says of a process, for tests that kill, freeze and reap processes. */
import { readFileSync } from 'node:fs';

/** The state letter of /proc/PID/stat: R, S, T (stopped), Z, … or undefined for no such process. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
