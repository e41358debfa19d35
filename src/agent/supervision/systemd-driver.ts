/**
 * The systemd driver: `systemctl start|stop|restart UNIT`, and `systemctl show` for ActiveState
 * and the time the unit last started. On NixOS the media units are installed with autostart off
 * and the agent starts the ones placed here (ARCHITECTURE.md, "Running services on NixOS boxes").
 *
 * Uptime comes from the monotonic timestamps (…TimestampMonotonic, microseconds of
 * CLOCK_MONOTONIC), compared with Node's own monotonic clock: no parsing of local dates and
 * time zones, no effect of clock changes.
 */
import { execFile } from 'node:child_process';
import { CisternError } from '../../errors.js';
import type { DriverStatus, ServiceDriver } from './driver.js';

export interface SystemdDriverOptions {
  /** e.g. jellyfin.service */
  unit: string;
  /** The systemctl program (tests give a stand-in). */
  systemctl?: string;
  /** How long one systemctl call may take; stopping a unit can take its TimeoutStopSec (default 90 s). */
  timeoutMs?: number;
  /** CLOCK_MONOTONIC now, in microseconds. */
  monotonicNowUs?: () => bigint;
}

const PROPERTIES = ['LoadState', 'ActiveState', 'SubState', 'Result', 'ActiveEnterTimestamp', 'ActiveEnterTimestampMonotonic', 'InactiveExitTimestampMonotonic'];
/** States in which the unit's process runs or is being started. */
const RUNNING = new Set(['active', 'activating', 'reloading', 'refreshing']);

export function systemdDriver(options: SystemdDriverOptions): ServiceDriver {
  const { unit } = options;
  const systemctl = options.systemctl ?? 'systemctl';
  const timeoutMs = options.timeoutMs ?? 120_000;
  const nowUs = options.monotonicNowUs ?? (() => process.hrtime.bigint() / 1000n);
  const run = (args: string[]) => new Promise<string>((resolve, reject) => {
    execFile(systemctl, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const why = (error as { killed?: boolean }).killed ? `no answer in ${timeoutMs} ms` : (stderr.trim().split('\n').at(-1) || error.message);
      reject(new CisternError('E_SERVICE_DRIVER', `systemctl ${args.join(' ')} failed: ${why}`, { hint: `see \`journalctl -u ${unit}\`` }));
    });
  });
  return {
    kind: 'systemd',
    start: async () => { await run(['start', unit]); },
    stop: async () => { await run(['stop', unit]); },
    restart: async () => { await run(['restart', unit]); },
    status: async () => unitStatus(parseSystemctlShow(await run(['show', unit, ...PROPERTIES.flatMap((p) => ['-p', p])])), nowUs()),
  };
}

/** `systemctl show` output (KEY=VALUE lines) as a map. */
export function parseSystemctlShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export function unitStatus(props: Readonly<Record<string, string>>, nowUs: bigint): DriverStatus {
  if (props.LoadState === 'not-found') return { running: false, detail: 'unit not found (LoadState=not-found)' };
  const active = props.ActiveState ?? 'unknown';
  const result = props.Result && props.Result !== 'success' ? `, Result=${props.Result}` : '';
  const detail = `ActiveState=${active}${props.SubState ? ` (${props.SubState}${result})` : ''}`;
  if (!RUNNING.has(active)) return { running: false, detail };
  // Starting: count from when it left "inactive"; running: from when it became active.
  const since = micro(active === 'activating' ? props.InactiveExitTimestampMonotonic : props.ActiveEnterTimestampMonotonic);
  if (since === undefined || since > nowUs) return { running: true, detail };
  return { running: true, uptimeSeconds: Number(nowUs - since) / 1e6, detail };
}

function micro(value: string | undefined): bigint | undefined {
  if (value === undefined || !/^\d+$/.test(value) || value === '0') return undefined;
  return BigInt(value);
}
