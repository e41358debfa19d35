import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/tmp.js';
import { processState } from '../../testing/process-state.js';
import { ProcessDriver } from './process-driver.js';

const drivers: ProcessDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
});

function driver(argv: string[], options: { env?: Record<string, string>; stopTimeoutMs?: number; logFile?: string } = {}): ProcessDriver {
  const d = new ProcessDriver({ name: 'svc', argv, ...options });
  drivers.push(d);
  return d;
}

const node = (script: string) => [process.execPath, '-e', script];
const FOREVER = 'setInterval(() => {}, 1000);';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the process driver', () => {
  it('starts the argv, reports it running with its uptime, stops it with SIGTERM, and starting twice is one process', async () => {
    const d = driver(node(FOREVER));
    await d.start();
    const pid = d.pid;
    await d.start();
    expect(d.pid).toBe(pid);
    expect(await d.status()).toMatchObject({ running: true, detail: `pid ${pid}` });
    expect((await d.status()).uptimeSeconds).toBeLessThan(5);
    await d.stop();
    expect(await d.status()).toEqual({ running: false, detail: 'killed by SIGTERM' });
    expect(processState(pid ?? 0)).toBeUndefined();
    await d.stop();
  });

  it('kills with SIGKILL what ignores SIGTERM for longer than stopTimeoutMs, and whatever it forked', async () => {
    const log = join(tempDir(), 'stubborn.log');
    const child = `process.on('SIGTERM', () => {}); console.log('ready'); ${FOREVER}`;
    const d = driver(['sh', '-c', `trap '' TERM; ${process.execPath} -e "${child}" & wait`], { stopTimeoutMs: 200, logFile: log });
    await d.start();
    await until('the forked child ready', () => existsSync(log) && readFileSync(log, 'utf8').includes('ready'));
    const leader = d.pid ?? 0;
    const children = readFileSync(`/proc/${leader}/task/${leader}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    expect(children).toHaveLength(1);
    const started = performance.now();
    await d.stop();
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(await d.status()).toEqual({ running: false, detail: 'killed by SIGKILL' });
    await until('the forked child gone', () => processState(children[0] ?? 0) === undefined || processState(children[0] ?? 0) === 'Z');
  });

  it('notices a process that died, says how, and restart starts a new one', async () => {
    const d = driver(['sh', '-c', 'exit 3']);
    await d.start();
    await until('the exit', async () => !(await d.status()).running);
    expect(await d.status()).toEqual({ running: false, detail: 'exited with code 3' });
    const forever = driver(node(FOREVER));
    await forever.start();
    const first = forever.pid;
    process.kill(first ?? 0, 'SIGKILL');
    await until('the kill', async () => !(await forever.status()).running);
    expect(await forever.status()).toEqual({ running: false, detail: 'killed by SIGKILL' });
    await forever.restart();
    expect(forever.pid).not.toBe(first);
    expect((await forever.status()).running).toBe(true);
  });

  it('refuses a program that does not exist with E_SERVICE_DRIVER', async () => {
    const d = driver(['/nonexistent/daemon', '-f']);
    await expect(d.start()).rejects.toMatchObject({ code: 'E_SERVICE_DRIVER', message: 'cannot start svc: /nonexistent/daemon: ENOENT' });
    expect(await d.status()).toEqual({ running: false, detail: 'could not start: ENOENT' });
  });

  it('gives the process PATH and its own environment, never the agent\'s, and appends its output to the log', async () => {
    process.env.CISTERN_TEST_SECRET = 'not for services';
    try {
      const log = join(tempDir(), 'services', 'svc.log');
      const d = driver(node('console.log(JSON.stringify(Object.keys(process.env).sort()), process.env.APP_PORT)'), { env: { APP_PORT: '8096' }, logFile: log });
      await d.start();
      await until('the exit', async () => !(await d.status()).running);
      d.update({ argv: node('console.log("second")') });
      await d.start();
      await until('the second exit', async () => !(await d.status()).running);
      expect(readFileSync(log, 'utf8')).toBe('["APP_PORT","PATH"] 8096\nsecond\n');
    } finally {
      delete process.env.CISTERN_TEST_SECRET;
    }
  });
});
