/** Helpers for the supervision tests. */
import { readFileSync } from 'node:fs';

/** The state letter of /proc/PID/stat (R, S, T, Z, …), or undefined for no such process. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}
