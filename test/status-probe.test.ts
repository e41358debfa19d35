/**
 * The authenticated status probe end to end on loopback: the agent's supervisor runs the
 * project's Sonarr stand-in (test/lab/standins/media.ts, which checks X-Api-Key as Sonarr does)
 * as a process-driver service, reads the key from a Sonarr-shaped config.xml in its state
 * directory, and reports what the status probe says — in heartbeats, events and /metrics —
 * without ever restarting the service for it or letting the key out. And `cistern agent` refuses
 * a --service-keys file others may read before it does anything.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyStore } from '../src/agent/service-keys/index.js';
import { createAgentSupervisor, setServicesCommand, type Supervisor, type SupervisorRecord } from '../src/agent/supervision/index.js';
import { createAgentMetrics } from '../src/monitoring/agent-metrics.js';
import { catalogService } from '../src/services/catalog.js';
import { createLogger } from '../src/util/logger.js';
import { homeEnv, waitUntil } from './support/fleet.js';
import { runCistern } from './support/cistern.js';
import type { StandinConfig } from './lab/standins/media.js';

const KEY = '5e7d1c0ffee0a11ce0b0b5ca1ab1e000';
const WRONG = 'deadbeefdeadbeefdeadbeefdeadbeef';

let root: string;
let script: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cistern-status-'));
  // As the lab does: the stand-in runs as plain JavaScript, transpiled once.
  const source = readFileSync(new URL('./lab/standins/media.ts', import.meta.url), 'utf8');
  script = join(root, 'media.mjs');
  writeFileSync(script, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } }).outputText);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Sonarr's config.xml as Sonarr 4 writes it, mode 0600. */
function writeSonarrConfig(file: string, key: string, bump = 0): void {
  writeFileSync(file, `<Config>\n  <BindAddress>127.0.0.1</BindAddress>\n  <Port>8989</Port>\n  <ApiKey>${key}</ApiKey>\n  <AuthenticationMethod>Forms</AuthenticationMethod>\n  <Branch>main</Branch>\n  <InstanceName>Sonarr</InstanceName>\n</Config>\n`, { mode: 0o600 });
  // A change the agent's stat sees whatever the file system's time grain.
  if (bump) utimesSync(file, new Date(), new Date(Date.now() + bump));
}

describe('the status probe against the Sonarr stand-in', () => {
  let supervisor: Supervisor | undefined;
  afterAll(async () => { await supervisor?.close(); });

  it('uses the key from config.xml, reports a refused key as misconfigured, never restarts, never lets the key out', async () => {
    const agentDir = join(root, 'agent');
    const stateDir = join(root, 'sonarr-state');
    mkdirSync(stateDir, { recursive: true });
    const configXml = join(stateDir, 'config.xml');
    writeSonarrConfig(configXml, KEY);
    const port = await freePort();

    let logs = '';
    const logger = createLogger({ name: 'cistern-agent', level: 'debug', destination: new Writable({ write(chunk: Buffer, _enc, done) { logs += chunk.toString(); done(); } }) });
    const events: SupervisorRecord[] = [];
    const metrics = createAgentMetrics({ processMetrics: false });
    supervisor = createAgentSupervisor({
      defaultDriver: 'process', stateDir: agentDir, logger, onEvent: (e) => events.push(e), metrics,
      keys: createKeyStore({ logger }),
    });
    const standin: StandinConfig = { app: 'sonarr', port, listen: '127.0.0.1', controlFile: join(root, 'sonarr-control.json'), apiKey: KEY, serverName: 'eden', address: '127.0.0.1' };
    const definition = { ...catalogService('sonarr'), port, state_dir: stateDir };
    // As the controller sends it: the definition with its key_source, over the set-services schema.
    await setServicesCommand(supervisor, 'process')({
      services: [{
        name: 'sonarr', definition, run: true, driver: 'process',
        process: { argv: [process.execPath, script, JSON.stringify(standin)] },
        supervision: { interval_ms: 200, timeout_ms: 2_000, status_interval_ms: 300 },
      }],
    });
    const sup = supervisor;
    const report = () => sup.probeServices().sonarr;
    const dump = () => `report: ${JSON.stringify(report())}\nevents: ${JSON.stringify(events)}\nlogs:\n${logs}`;

    const good = await waitUntil('a healthy status from Sonarr', async () => report()?.status?.verdict === 'healthy' && report()?.status, { timeoutMs: 15_000, intervalMs: 50, describe: dump });
    expect(good).toMatchObject({ verdict: 'healthy', version: '4.0.15.2941' });
    expect(report()?.state).toBe('healthy');
    expect((await metrics.scrape()).body).toContain('cistern_agent_service_status{service="sonarr",verdict="healthy"} 1');

    // The admin (or Sonarr's "reset API key") changes the file: the next status probe reads it again.
    writeSonarrConfig(configXml, WRONG, 5_000);
    const refused = await waitUntil('a misconfigured status', async () => report()?.status?.verdict === 'misconfigured' && report()?.status, { timeoutMs: 10_000, intervalMs: 50, describe: dump });
    expect(refused.detail).toBe('sonarr refused the agent\'s key or credential [HTTP 401]; check the key in the agent\'s --service-keys file or the app\'s config file');
    // Reported, never acted on: still healthy, started once, never restarted.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(report()?.state).toBe('healthy');
    expect(events.filter((e) => e.kind === 'service-started')).toHaveLength(1);
    expect(events.map((e) => e.kind)).not.toContain('service-restart');
    expect(events.filter((e) => e.kind === 'service-status').map((e) => [e.data.from, e.data.to])).toEqual([['unknown', 'healthy'], ['healthy', 'misconfigured']]);
    const scraped = (await metrics.scrape()).body;
    expect(scraped).toContain('cistern_agent_service_status{service="sonarr",verdict="misconfigured"} 1');
    expect(scraped).toContain('cistern_agent_service_status{service="sonarr",verdict="healthy"} 0');

    // Neither key anywhere the agent writes or sends: logs, events, heartbeats, metrics.
    expect(logs).toContain('API key read from the application\'s config file');
    for (const key of [KEY, WRONG]) {
      expect(logs).not.toContain(key);
      expect(JSON.stringify(events)).not.toContain(key);
      expect(JSON.stringify(sup.probeServices())).not.toContain(key);
      expect(scraped).not.toContain(key);
    }
  }, 40_000);
});

describe('cistern agent --service-keys', () => {
  it('refuses a file its group or others may read, naming it, before joining or writing anything', async () => {
    const home = join(root, 'home');
    mkdirSync(home, { recursive: true });
    const file = join(root, 'service-keys.yaml');
    writeFileSync(file, `sonarr: { key: ${KEY} }\n`);
    chmodSync(file, 0o644);
    const stateDir = join(root, 'refused-agent');
    const run = await runCistern(['agent', '--no-mdns', '--no-metrics', '--discoverable', '--state-dir', stateDir, '--service-keys', file], homeEnv(home));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('error[E_SERVICE_KEYS]');
    expect(run.stderr).toContain(`${file}: the service keys file may be read or written by its group or others (mode 0644); refusing it`);
    expect(run.stderr).toContain(`chmod 600 ${file}`);
    expect(`${run.stdout}${run.stderr}`).not.toContain(KEY);
    expect(() => readFileSync(join(stateDir, 'credential.json'))).toThrow();
  });
});
