/**
 * Debian's Chromium driven by playwright-core, for end-to-end tests of the dashboard. The browser
 * trusts the lab controller's CA the way a person's would: the CA goes into an NSS database
 * (certutil) under a HOME of the browser's own, so TLS is verified for real rather than ignored.
 * Headless, with --no-sandbox since the tests run as root, and kept off every network but loopback.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface LabBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Starts Chromium trusting the CA in `caPemFile`; the caller must call close(). */
export async function launchTrusting(caPemFile: string, options: { timeoutMs?: number } = {}): Promise<LabBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/ensure-test-deps.sh installs Debian's chromium`);
  const home = mkdtempSync(join(tmpdir(), 'cistern-browser-'));
  try {
    const nssdb = join(home, '.pki', 'nssdb');
    mkdirSync(nssdb, { recursive: true });
    execFileSync('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password'], { stdio: 'pipe' });
    execFileSync('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'cistern-lab-ca', '-i', caPemFile], { stdio: 'pipe' });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
        // Nothing leaves loopback: no background services, every other host goes to a dead
        // local proxy port (loopback always bypasses a proxy), and no name resolves.
        '--disable-background-networking', '--disable-component-update', '--disable-domain-reliability', '--no-pings',
        '--proxy-server=http://127.0.0.1:9', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
      ],
      env: { ...process.env, HOME: home },
      timeout: options.timeoutMs ?? 20_000,
    });
    return {
      browser,
      close: async () => {
        await browser.close().catch(() => {});
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}
