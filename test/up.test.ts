/**
 * The README's quick start: `cistern up` as a real process on loopback. It starts a controller
 * and an agent for this machine; `cistern status` (through the client config `up` saved) shows
 * the machine healthy, the inventory lists it, the agent serves /metrics to the scrape token,
 * Ctrl-C stops both, and a second `up` on the same state comes back without a new admin token,
 * on another port (--listen 127.0.0.1:0), which the saved agent credential and CLI config follow.
 * Also: a CLI whose reader goes away (`cistern … | head`) ends quietly.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { assertBuilt, ROOT, runCistern, spawnCistern } from './support/cistern.js';
import { run } from './support/process.js';

interface Up { child: ChildProcess; output(): string; exited: Promise<number | null> }

function startUp(args: readonly string[], env: NodeJS.ProcessEnv): Up {
  const child = spawnCistern(['up', ...args], env);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Polls `check` every 200 ms until it returns something, for at most `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, last: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}\n${last()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** GET over HTTPS without checking the certificate (the agent's is signed by the fleet CA). */
function get(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, timeout: 5_000, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(() => assertBuilt());

describe('cistern up: the quick start', () => {
  let home: string;
  const running: Up[] = [];

  afterEach(async () => {
    for (const up of running.splice(0)) {
      if (up.child.exitCode === null && up.child.signalCode === null) up.child.kill('SIGKILL');
      await up.exited;
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('starts a controller and this machine\'s agent; status shows it healthy; Ctrl-C stops; a second start reuses the state', { timeout: 90_000 }, async () => {
    home = mkdtempSync(join(tmpdir(), 'cistern-up-'));
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share') };
    const metricsPort = await freePort();
    const args = ['--listen', '127.0.0.1:0', '--no-mdns', '--metrics-listen', `127.0.0.1:${metricsPort}`, '--name', 'quickstart'];

    const first = startUp(args, env);
    running.push(first);
    await waitFor('"Cistern is up."', () => (first.output().includes('Cistern is up.') ? true : undefined), 30_000, first.output);
    expect(first.output()).toMatch(/admin token: csa_/);
    expect(first.output()).toContain('this machine: registered as quickstart');
    expect(first.output()).toContain(`metrics:    https://127.0.0.1:${metricsPort}/metrics`);

    type Server = { name: string; health: string; connected: boolean };
    const healthy = async () => {
      const status = await runCistern(['status', '--json'], env);
      if (status.code !== 0) return undefined;
      const servers = JSON.parse(status.stdout) as Server[];
      return servers.find((s) => s.name === 'quickstart' && s.health === 'healthy' && s.connected);
    };
    await waitFor('quickstart healthy in `cistern status`', healthy, 20_000, first.output);

    // The inventory `up` keeps (in its data dir) lists the machine, with a status block.
    const inventory = join(home, '.local', 'share', 'cistern', 'inventory.yaml');
    const servers = await waitFor('the inventory to list quickstart', () => {
      const doc = parse(readFileSync(inventory, 'utf8')) as { servers?: Record<string, { status?: { health?: string } }> };
      return doc.servers?.['quickstart']?.status?.health === 'healthy' ? doc.servers : undefined;
    }, 10_000);
    expect(Object.keys(servers)).toEqual(['quickstart']);

    // The agent's /metrics wants the fleet's scrape token, and serves with it.
    const metricsUrl = `https://127.0.0.1:${metricsPort}/metrics`;
    const token = await runCistern(['monitoring', 'token', '--json'], env);
    expect(token.code, token.stderr).toBe(0);
    const scrapeToken = (JSON.parse(token.stdout) as { token: string }).token;
    expect((await get(metricsUrl)).status).toBe(401);
    const scraped = await waitFor('/metrics to accept the new scrape token', async () => {
      const answer = await get(metricsUrl, scrapeToken);
      return answer.status === 200 ? answer : undefined;
    }, 10_000);
    expect(scraped.body).toMatch(/^cistern_agent_heartbeat/m);
    expect(first.output()).not.toContain(scrapeToken);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('Cistern stopped');

    // Same state again: the machine is registered already, so no new admin token and no join.
    const second = startUp(args, env);
    running.push(second);
    await waitFor('the second "Cistern is up."', () => (second.output().includes('Cistern is up.') ? true : undefined), 30_000, second.output);
    expect(second.output()).not.toMatch(/admin token/);
    expect(second.output()).toContain('this machine: quickstart (registered before)');
    await waitFor('quickstart healthy again', healthy, 20_000, second.output);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses a bad --metrics-listen before starting anything', async () => {
    home = mkdtempSync(join(tmpdir(), 'cistern-up-'));
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share') };
    const result = await runCistern(['up', '--no-mdns', '--listen', '127.0.0.1:0', '--metrics-listen', 'nonsense'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--metrics-listen: "nonsense" is not HOST:PORT');
    expect(() => readFileSync(join(home, '.local', 'share', 'cistern', 'inventory.yaml'))).toThrow(/ENOENT/);
  });

  it('a keys file open to others stops `up` with the file named, and leaves no controller running', { timeout: 30_000 }, async () => {
    home = mkdtempSync(join(tmpdir(), 'cistern-up-'));
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share') };
    const keys = join(home, 'keys.yaml');
    writeFileSync(keys, 'sonarr: { key: 0123456789abcdef0123456789abcdef }\n', { mode: 0o644 });
    chmodSync(keys, 0o644);
    const result = await runCistern(['up', '--no-mdns', '--listen', '127.0.0.1:0', '--no-metrics', '--service-keys', keys], env, 25_000);
    expect(result.signal, 'up must exit by itself, not hang with its controller open').toBeNull();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(keys);
    expect(result.stderr).toContain('chmod 600');
    expect(result.stdout + result.stderr).not.toContain('0123456789abcdef');
  });
});

describe('the CLI\'s start-up', () => {
  it('loads no Grafana SDK (230 CommonJS files) unless it generates dashboards', async () => {
    const probe = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(`${ROOT}/dist/cli/commands/index.js`)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ all: loaded.length, grafana: loaded.filter((k) => k.includes('grafana-foundation-sdk')).length }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { timeoutMs: 20_000 });
    const counts = JSON.parse(stdout) as { all: number; grafana: number };
    expect(counts.all).toBeGreaterThan(0);
    expect(counts.grafana).toBe(0);
  });
});

describe('the CLI and a closed pipe', () => {
  it('`cistern … | head`: a reader that went away ends the CLI quietly, with no stack trace', async () => {
    const child = spawnCistern(['inventory', 'schema']);
    // Closed before the CLI writes its first byte, so every write it makes meets EPIPE.
    child.stdout?.destroy();
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
