import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/tmp.js';
import { parseSystemctlShow, systemdDriver, unitStatus } from './systemd-driver.js';

/** A stand-in for systemctl: records its arguments, prints `show` output, fails for a unit named broken.service. */
function fakeSystemctl(show: string): { path: string; calls: () => string[] } {
  const dir = tempDir();
  const log = join(dir, 'calls');
  writeFileSync(join(dir, 'show.txt'), show);
  const path = join(dir, 'systemctl');
  writeFileSync(path, [
    '#!/bin/sh',
    `echo "$*" >> '${log}'`,
    'case "$2" in broken.service) echo "Failed to start broken.service: Unit broken.service not found." >&2; exit 5;; esac',
    `[ "$1" = show ] && cat '${join(dir, 'show.txt')}'`,
    'exit 0',
  ].join('\n'));
  chmodSync(path, 0o755);
  return { path, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

const SHOW = [
  'LoadState=loaded', 'ActiveState=active', 'SubState=running', 'Result=success',
  'ActiveEnterTimestamp=Tue 2026-03-03 10:00:00 UTC', 'ActiveEnterTimestampMonotonic=5000000', 'InactiveExitTimestampMonotonic=4000000', '',
].join('\n');

describe('the systemd driver', () => {
  it('runs systemctl start, stop and restart on the unit, and reads ActiveState and uptime from show', async () => {
    const systemctl = fakeSystemctl(SHOW);
    const driver = systemdDriver({ unit: 'jellyfin.service', systemctl: systemctl.path, monotonicNowUs: () => 65_000_000n });
    await driver.start();
    await driver.restart();
    await driver.stop();
    expect(await driver.status()).toEqual({ running: true, uptimeSeconds: 60, detail: 'ActiveState=active (running)' });
    expect(systemctl.calls()).toEqual([
      'start jellyfin.service', 'restart jellyfin.service', 'stop jellyfin.service',
      'show jellyfin.service -p LoadState -p ActiveState -p SubState -p Result -p ActiveEnterTimestamp -p ActiveEnterTimestampMonotonic -p InactiveExitTimestampMonotonic',
    ]);
  });

  it('fails with E_SERVICE_DRIVER and systemctl\'s own last line', async () => {
    const driver = systemdDriver({ unit: 'broken.service', systemctl: fakeSystemctl(SHOW).path });
    await expect(driver.start()).rejects.toMatchObject({
      code: 'E_SERVICE_DRIVER', message: 'systemctl start broken.service failed: Failed to start broken.service: Unit broken.service not found.',
    });
  });

  it('reads every unit state: running or not, and since when', () => {
    const status = (text: string, now = 10_000_000n) => unitStatus(parseSystemctlShow(text), now);
    expect(status(SHOW)).toEqual({ running: true, uptimeSeconds: 5, detail: 'ActiveState=active (running)' });
    // Starting: counted from when it left "inactive", not from an older activation.
    expect(status(SHOW.replace('ActiveState=active', 'ActiveState=activating').replace('SubState=running', 'SubState=start'))).toMatchObject({ running: true, uptimeSeconds: 6 });
    expect(status('ActiveState=failed\nSubState=failed\nResult=exit-code\n')).toEqual({ running: false, detail: 'ActiveState=failed (failed, Result=exit-code)' });
    expect(status('ActiveState=inactive\nSubState=dead\nResult=success\n')).toEqual({ running: false, detail: 'ActiveState=inactive (dead)' });
    expect(status('LoadState=not-found\nActiveState=inactive\n')).toEqual({ running: false, detail: 'unit not found (LoadState=not-found)' });
    expect(status('ActiveState=active\nActiveEnterTimestampMonotonic=0\n')).toEqual({ running: true, detail: 'ActiveState=active' });
  });
});
