/**
 * Heartbeat load on a real controller: the built `cistern controller` runs as its own process
 * with a 1 s heartbeat interval and a 3 s TTL, and 2,000 simulated agents (two forked
 * generators, bench/heartbeat-agents.ts) hold TLS WebSockets to it on loopback and heartbeat at
 * 1 Hz. After a ramp (200 connections per 100 ms) and a settle, a 20 s window measures acks per
 * second, ack latency (send to receipt, on the agent's side), connection failures, and the
 * controller's memory (VmRSS sampled every second, VmHWM at the end) and CPU.
 *
 * Then, with the load still on, three probe agents are SIGKILLed one at a time, and the time
 * from the kill to the 'health … → unreachable' event on the admin API (long-polled) is taken.
 *
 * Agents are written straight into the store (registration is rate-limited). Needs
 * `npm run build`. Set CISTERN_BENCH_CPU_PROF=DIR to write a CPU profile of the controller.
 *
 * Goals (2-core machine, shared by the controller and the generators): all 2,000 agents
 * connected, none failing, acks keeping up with the heartbeats, ack p99 <= 100 ms, controller
 * peak RSS <= 300 MB, and every SIGKILL seen as unreachable within TTL + one interval (4 s).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../src/controller/store/index.js';
import { generateSecret, hashSecret } from '../src/controller/tokens.js';
import { figuresFrom, type BenchSuite, type MeasuredGoal, type SuiteRun } from './harness.js';
import type { ChildMessage, GeneratorFigures, ParentMessage, StartMessage } from './heartbeat-agents.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'cistern');
const GENERATOR = join(ROOT, 'bench', 'heartbeat-agents.ts');

const AGENTS = 2_000;
const GENERATORS = 2;
const PROBES = 3;
const RAMP_PER_TICK = 200; // across all generators
const RAMP_TICK_MS = 100;
const INTERVAL_MS = 1_000;
const TTL_MS = 3_000;
const SETTLE_MS = 3_000;
const MEASURE_MS = 20_000;
const BUDGET_MS = 115_000; // the whole suite, cleanup included, stays under 2 minutes
const CLK_TCK = 100; // Linux USER_HZ, for /proc/<pid>/stat CPU times

const GOAL_P99_MS = 100;
const GOAL_RSS_MB = 300;
const GOAL_UNREACHABLE_MS = TTL_MS + INTERVAL_MS;

interface Running {
  dataDir: string;
  controller?: ChildProcess;
  children: ChildProcess[];
  timers: NodeJS.Timeout[];
  stopping?: boolean;
}

class BudgetExceeded extends Error {}

let deadline = 0;
/** Set when the controller dies mid-run: every wait then fails at once, saying so. */
let controllerDied: string | undefined;

function remaining(): number {
  return deadline - Date.now();
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + Math.min(timeoutMs, remaining());
  while (!condition()) {
    if (controllerDied) throw new Error(controllerDied);
    if (Date.now() > until) throw new BudgetExceeded(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function pause(ms: number): Promise<void> {
  const until = Date.now() + ms;
  await waitFor('nothing', () => Date.now() >= until, ms + 1_000);
}

function assertBuilt(): void {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) {
    throw new Error('dist/ is missing: this suite runs the built controller (node bin/cistern controller); run `npm run build` first');
  }
  const built = statSync(main).mtimeMs;
  const newer = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && statSync(join(ROOT, 'src', f)).mtimeMs > built);
  if (newer.length > 0) console.warn(`warning: dist/ is older than ${newer.length} file(s) in src/ (e.g. src/${newer[0]}): run \`npm run build\` to bench the current code`);
}

/** Facts about the size a real agent reports, so the store and the controller's start-up see realistic rows. */
function facts(i: number): Record<string, unknown> {
  return {
    hostname: `media-${i}`, architecture: 'x86_64',
    cpu: { model: 'Intel(R) Core(TM) i5-8500T CPU @ 2.10GHz', vendor: 'GenuineIntel', cores: 6, threads: 6 },
    memory: { totalBytes: 8 * 1024 ** 3 },
    disks: [
      { device: '/dev/nvme0n1p2', disk: '/dev/nvme0n1', mount: '/', fsType: 'ext4', sizeBytes: 256e9, freeBytes: 190e9, rotational: false },
      { device: '/dev/sda1', disk: '/dev/sda', mount: '/srv/media', fsType: 'xfs', sizeBytes: 4e12, freeBytes: 2.8e12, rotational: true },
    ],
    gpus: [{ vendor: 'intel', model: 'Intel UHD Graphics 630', renderNode: '/dev/dri/renderD128' }],
    transcoding: { renderNodes: ['/dev/dri/renderD128'], quickSync: true, vaapi: true, nvenc: false },
    deviceModel: null,
    os: { name: 'Debian GNU/Linux', id: 'debian', version: '12', nixosVersion: null },
    interfaces: [{ name: 'eno1', mac: `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, addresses: [`10.1.${i >> 8}.${i & 0xff}`] }],
    collectedAt: new Date().toISOString(),
    gaps: [],
  };
}

/** Writes the agents straight into a fresh store; returns their plain credentials, by name. */
function prepareStore(dataDir: string, names: string[]): Map<string, string> {
  const credentials = new Map<string, string>();
  const store = openStore(join(dataDir, 'state.db'));
  try {
    const now = Date.now();
    store.transaction(() => {
      names.forEach((name, i) => {
        const credential = generateSecret('cag_');
        credentials.set(name, credential);
        store.createAgent({
          id: randomUUID(), name, hostname: `${name}.lan`, address: `10.1.${i >> 8}.${i & 0xff}`, credentialHash: hashSecret(credential),
          ageRecipient: `age1${'q'.repeat(58)}`, group: 'bench', facts: facts(i), createdAt: now,
        });
      });
    });
  } finally {
    store.close();
  }
  return credentials;
}

interface Controller { proc: ChildProcess; url: string; adminToken: string; caPem: string }

async function startController(running: Running): Promise<Controller> {
  const { dataDir } = running;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: join(dataDir, 'client-config') };
  delete env.CISTERN_INVENTORY;
  delete env.CISTERN_DATA_DIR;
  const profileDir = process.env.CISTERN_BENCH_CPU_PROF;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [];
  const log = openSync(join(dataDir, 'controller.log'), 'w');
  const proc = spawn(process.execPath, [
    ...nodeArgs, BIN, 'controller', '--data-dir', dataDir, '--listen', '127.0.0.1:0',
    '--heartbeat-interval', `${INTERVAL_MS / 1000}s`, '--ttl', `${TTL_MS / 1000}s`,
  ], { cwd: ROOT, env, stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  running.controller = proc;
  let stdout = '';
  let exited: string | undefined;
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  proc.once('exit', (code, signal) => { exited = `exited (${signal ?? code})`; });
  await waitFor('the controller to start', () => exited !== undefined || stdout.includes('add a server'), 30_000).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; stdout: ${stdout.trim() || '(none)'}`);
  });
  if (exited) throw new Error(`the controller ${exited} before listening: ${controllerLogTail(dataDir)}`);
  proc.once('exit', (code, signal) => { if (!running.stopping) controllerDied = `the controller exited mid-run (${signal ?? `code ${code}`})`; });
  const url = /controller listening at (\S+)/.exec(stdout)?.[1];
  const adminToken = /admin token[^\n]*:\n\s*(csa_\S+)/.exec(stdout)?.[1];
  if (!url || !adminToken) throw new Error(`could not read the URL and admin token from the controller's output:\n${stdout}`);
  return { proc, url, adminToken, caPem: readFileSync(join(dataDir, 'pki', 'ca.pem'), 'utf8') };
}

function controllerLogTail(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, 'controller.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A field of /proc/<pid>/status in MB (VmRSS, VmHWM), or NaN once the process is gone. */
function procMemoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds of a process so far. */
function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return Number.NaN;
  }
}

interface Generator { proc: ChildProcess; open: number; failed: number; acks: number; figures?: GeneratorFigures }

function forkGenerator(running: Running): Generator {
  const proc = fork(GENERATOR, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  running.children.push(proc);
  const generator: Generator = { proc, open: 0, failed: 0, acks: 0 };
  proc.on('message', (message: ChildMessage) => {
    if (message.type === 'status') Object.assign(generator, { open: message.open, failed: message.failed, acks: message.acks });
    else generator.figures = message;
  });
  return generator;
}

function tell(generator: Generator, message: ParentMessage): void {
  generator.proc.send(message);
}

interface EventsPage { events: { id: number; kind: string; data: { to?: string } }[]; last: number }

function events(controller: Controller, server: string, after: number, waitMs: number): Promise<EventsPage> {
  const url = new URL(`/v1/events?server=${encodeURIComponent(server)}&after=${after}&limit=1000&wait=${waitMs}`, controller.url);
  return new Promise((done, fail) => {
    const req = request(url, { ca: controller.caPem, agent: false, headers: { authorization: `Bearer ${controller.adminToken}` }, timeout: waitMs + 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => {
        if (res.statusCode !== 200) fail(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}: ${body}`));
        else done(JSON.parse(body) as EventsPage);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: timed out`)));
    req.on('error', fail);
    req.end();
  });
}

/** SIGKILLs a probe agent once it heartbeats, and times the kill to the unreachable event. */
async function killToUnreachable(running: Running, controller: Controller, name: string, credential: string): Promise<number> {
  const probe = forkGenerator(running);
  tell(probe, { type: 'start', url: controller.url, caPem: controller.caPem, credentials: [credential], rampPerTick: 1, rampTickMs: RAMP_TICK_MS, intervalMs: INTERVAL_MS, statusMs: 50 });
  await waitFor(`probe ${name} to be acknowledged`, () => probe.acks >= 1 || probe.failed > 0, 20_000);
  if (probe.failed > 0) throw new Error(`probe ${name} could not connect`);
  // Kill it at a random point of its heartbeat interval, as a crash would.
  await pause(INTERVAL_MS + Math.random() * INTERVAL_MS);
  let after = (await events(controller, name, 0, 0)).last;
  probe.proc.kill('SIGKILL');
  const killedAt = performance.now();
  const giveUp = killedAt + 3 * GOAL_UNREACHABLE_MS;
  while (performance.now() < giveUp) {
    const page = await events(controller, name, after, Math.max(1, Math.round(giveUp - performance.now())));
    if (page.events.some((e) => e.kind === 'health' && e.data.to === 'unreachable')) return performance.now() - killedAt;
    after = page.last;
  }
  return Number.NaN;
}

async function stop(running: Running): Promise<void> {
  running.stopping = true;
  for (const timer of running.timers) clearInterval(timer);
  for (const child of running.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const controller = running.controller;
  if (controller && controller.exitCode === null && controller.signalCode === null) {
    // SIGTERM first: the controller shuts down in order (and writes its CPU profile, if asked).
    const exited = new Promise<void>((done) => controller.once('exit', () => done()));
    controller.kill('SIGTERM');
    const timer = setTimeout(() => controller.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(running.dataDir, { recursive: true, force: true });
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const round1 = (n: number) => Math.round(n * 10) / 10;

async function measure(running: Running): Promise<SuiteRun> {
  assertBuilt();
  const names = Array.from({ length: AGENTS }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
  const probeNames = Array.from({ length: PROBES }, (_, i) => `probe-${i + 1}`);
  const credentials = prepareStore(running.dataDir, [...names, ...probeNames]);

  const controller = await startController(running);
  const pid = controller.proc.pid as number;
  const rssSamples: number[] = [];
  running.timers.push(setInterval(() => { const mb = procMemoryMb(pid, 'VmRSS'); if (!Number.isNaN(mb)) rssSamples.push(mb); }, 1_000));

  // The load: each generator connects its share, ramping together at RAMP_PER_TICK per tick.
  const generators = Array.from({ length: GENERATORS }, () => forkGenerator(running));
  const rampStarted = performance.now();
  generators.forEach((g, i) => tell(g, {
    type: 'start', url: controller.url, caPem: controller.caPem,
    credentials: names.filter((_, n) => n % GENERATORS === i).map((n) => credentials.get(n) as string),
    rampPerTick: RAMP_PER_TICK / GENERATORS, rampTickMs: RAMP_TICK_MS, intervalMs: INTERVAL_MS, statusMs: 250,
  } satisfies StartMessage));
  await waitFor(`${AGENTS} agents to connect`, () => sum(generators.map((g) => g.open + g.failed)) >= AGENTS, 40_000);
  const rampMs = performance.now() - rampStarted;
  await waitFor('every agent\'s first ack', () => sum(generators.map((g) => g.acks)) >= AGENTS - sum(generators.map((g) => g.failed)), 20_000).catch(() => undefined);
  await pause(SETTLE_MS);

  // The window.
  const cpuBefore = procCpuSeconds(pid);
  const generatorCpuBefore = sum(generators.map((g) => procCpuSeconds(g.proc.pid as number)));
  for (const g of generators) tell(g, { type: 'measure-start' });
  const windowStarted = performance.now();
  await pause(MEASURE_MS);
  for (const g of generators) tell(g, { type: 'measure-stop' });
  const windowMs = performance.now() - windowStarted;
  const cpuSeconds = procCpuSeconds(pid) - cpuBefore;
  const generatorCpuSeconds = sum(generators.map((g) => procCpuSeconds(g.proc.pid as number))) - generatorCpuBefore;
  await waitFor('the generators\' figures', () => generators.every((g) => g.figures), 10_000);
  const figures = generators.map((g) => g.figures as GeneratorFigures);

  // Crash detection, with the load still on.
  const delays: number[] = [];
  for (const name of probeNames) delays.push(await killToUnreachable(running, controller, name, credentials.get(name) as string));

  const hwm = procMemoryMb(pid, 'VmHWM');
  const acks = sum(figures.map((f) => f.acks));
  const acksPerS = (acks / windowMs) * 1000;
  const perSecond = figures.map((f) => f.perSecond).reduce((a, b) => a.map((n, i) => n + (b[i] ?? 0)));
  const fullSeconds = perSecond.slice(0, Math.floor(windowMs / 1000));
  const connected = sum(figures.map((f) => f.open));
  const failed = sum(figures.map((f) => f.failed));
  const latency = figuresFrom(`heartbeat ack, ${AGENTS} agents at 1 Hz`, figures.flatMap((f) => f.latencies), round1(acksPerS));
  const unreachable = figuresFrom('SIGKILL to unreachable (1 s interval, 3 s ttl)', delays.filter((d) => !Number.isNaN(d)));
  const maxDelay = delays.some((d) => Number.isNaN(d)) ? Number.NaN : Math.round(Math.max(...delays));

  const extra: Record<string, number> = {
    agents_connected: connected,
    connection_failures: failed,
    ramp_ms: Math.round(rampMs),
    window_s: round1(windowMs / 1000),
    heartbeats_sent: sum(figures.map((f) => f.sent)),
    acks_received: acks,
    acks_per_s: round1(acksPerS),
    acks_per_s_min_1s: Math.min(...fullSeconds),
    controller_rss_peak_sampled_mb: round1(Math.max(...rssSamples)),
    controller_rss_end_mb: round1(rssSamples.at(-1) ?? Number.NaN),
    controller_vmhwm_mb: round1(hwm),
    controller_cpu_percent: round1((cpuSeconds / (windowMs / 1000)) * 100),
    generators_cpu_percent: round1((generatorCpuSeconds / (windowMs / 1000)) * 100),
    generator_loop_delay_p99_ms: round1(Math.max(...figures.map((f) => f.loopDelayP99Ms))),
    generator_loop_delay_max_ms: round1(Math.max(...figures.map((f) => f.loopDelayMaxMs))),
    unreachable_after_kill_ms_max: maxDelay,
  };
  delays.forEach((d, i) => { extra[`unreachable_after_kill_ms_${i + 1}`] = Math.round(d); });

  const goals: MeasuredGoal[] = [
    { name: 'agents connected', value: connected, unit: 'agents', min: AGENTS },
    { name: 'connection failures', value: failed, unit: 'agents', max: 0 },
    // Acks keep up with heartbeats: 2,000 agents at 1 Hz, less a little timer drift.
    { name: 'sustained acks', value: round1(acksPerS), unit: 'acks/s', min: AGENTS * 0.98 },
    { name: 'heartbeat ack p99', value: latency.p99_ms, unit: 'ms', max: GOAL_P99_MS },
    { name: 'controller peak RSS (VmHWM)', value: round1(hwm), unit: 'MB', max: GOAL_RSS_MB },
    { name: 'SIGKILL to unreachable, max of 3', value: maxDelay, unit: 'ms', max: GOAL_UNREACHABLE_MS },
  ];
  return { figures: [latency, unreachable], extra, goals };
}

export const heartbeatsSuite: BenchSuite = {
  name: 'heartbeats',
  description: `${AGENTS} agents heartbeating at 1 Hz over TLS WebSockets to a real controller; SIGKILL to unreachable`,
  async run() {
    deadline = Date.now() + BUDGET_MS - 10_000; // leave time to clean up
    controllerDied = undefined;
    const running: Running = { dataDir: mkdtempSync(join(tmpdir(), 'cistern-bench-hb-')), children: [], timers: [] };
    let budget: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        measure(running),
        new Promise<never>((_, fail) => { budget = setTimeout(() => fail(new BudgetExceeded(`the suite ran over its ${BUDGET_MS / 1000} s budget`)), BUDGET_MS - 10_000); }),
      ]);
    } catch (error) {
      if (running.controller) console.error(`controller log (last lines):\n${controllerLogTail(running.dataDir)}`);
      throw error;
    } finally {
      clearTimeout(budget);
      await stop(running);
    }
  },
};
