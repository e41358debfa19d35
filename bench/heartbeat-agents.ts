/**
 * Load generator for the heartbeats suite, run as a forked child (`child_process.fork`): many
 * simulated agents, each one TLS WebSocket to the controller heartbeating at a fixed interval,
 * the way src/agent/connection.ts does (hello, then heartbeats with a load sample; acks timed
 * from send to receipt). Kept lean: one interval timer per agent, a fixed ring of send times,
 * no schema validation of acks. Driven over IPC by bench/heartbeats.bench.ts:
 *
 *   parent → child  start { url, caPem, credentials, rampPerTick, rampTickMs, intervalMs }
 *                   measure-start | measure-stop
 *   child → parent  status { open, failed, acks } every statusMs
 *                   figures { ... } on measure-stop
 *
 * No reconnects: a connection that fails or closes is counted, so the suite can report it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

export interface StartMessage {
  type: 'start';
  url: string;
  caPem: string;
  credentials: string[];
  rampPerTick: number;
  rampTickMs: number;
  intervalMs: number;
  statusMs: number;
}

export type ParentMessage = StartMessage | { type: 'measure-start' } | { type: 'measure-stop' };

export interface StatusMessage { type: 'status'; open: number; failed: number; acks: number }

export interface GeneratorFigures {
  type: 'figures';
  /** Heartbeats sent and acks received inside the window. */
  sent: number;
  acks: number;
  /** Ack latency (send to receipt) of every ack received inside the window, in ms. */
  latencies: number[];
  /** Acks per whole second of the window. */
  perSecond: number[];
  open: number;
  /** Agents whose connection failed to open, was refused, or closed (each counted once). */
  failed: number;
  /** The generator's own event-loop delay, ms: high values mean it, not the controller, adds latency. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type ChildMessage = StatusMessage | GeneratorFigures;

const RING = 8; // heartbeats in flight per agent before an ack is considered lost

interface SimAgent {
  socket: WebSocket;
  seq: number;
  timer: NodeJS.Timeout | undefined;
  sentSeq: Int32Array;
  sentAt: Float64Array;
  opened: boolean;
  failed: boolean;
}

const agents: SimAgent[] = [];
let open = 0;
let failed = 0;
let totalAcks = 0;
let measuring = false;
let windowStart = 0;
let sent = 0;
let acks = 0;
let latencies: number[] = [];
let perSecond: number[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

function send(message: ChildMessage): void {
  process.send?.(message);
}

function fail(agent: SimAgent): void {
  if (agent.failed) return;
  agent.failed = true;
  failed++;
  clearInterval(agent.timer);
}

/** A plausible box: a few GB of RAM, a big disk, load drifting a little from beat to beat. */
function load(base: number): Record<string, number> {
  const wobble = Math.random();
  return {
    load1: Math.round((0.2 + base + wobble * 0.5) * 100) / 100,
    cpuPercent: Math.round((5 + base * 20 + wobble * 10) * 10) / 10,
    memoryUsedBytes: Math.round((2.5 + base) * 1024 ** 3 + wobble * 1e8),
    memoryTotalBytes: 8 * 1024 ** 3,
    diskUsedBytes: Math.round((1.2 + base) * 1e12),
    diskTotalBytes: 4e12,
  };
}

function heartbeat(agent: SimAgent, base: number): void {
  if (agent.socket.readyState !== WebSocket.OPEN) return;
  const seq = agent.seq++;
  const slot = seq % RING;
  agent.sentSeq[slot] = seq;
  agent.sentAt[slot] = performance.now();
  agent.socket.send(JSON.stringify({ type: 'heartbeat', seq, sentAt: Date.now(), load: load(base), services: {} }));
  if (measuring) sent++;
}

function onAck(agent: SimAgent, text: string): void {
  const now = performance.now();
  let seq: unknown;
  try { seq = (JSON.parse(text) as { seq?: unknown }).seq; } catch { return; }
  if (typeof seq !== 'number') return;
  const slot = seq % RING;
  if (agent.sentSeq[slot] !== seq) return; // too old: fell out of the ring
  agent.sentSeq[slot] = -1;
  totalAcks++;
  if (!measuring) return;
  acks++;
  latencies.push(now - (agent.sentAt[slot] as number));
  const second = Math.floor((now - windowStart) / 1000);
  perSecond[second] = (perSecond[second] ?? 0) + 1;
}

function connect(start: StartMessage, credential: string): void {
  const socket = new WebSocket(`${start.url.replace(/^http/, 'ws')}/v1/agent/connect`, {
    ca: start.caPem,
    headers: { authorization: `Bearer ${credential}` },
    handshakeTimeout: 15_000,
    perMessageDeflate: false,
  });
  const agent: SimAgent = { socket, seq: 0, timer: undefined, sentSeq: new Int32Array(RING).fill(-1), sentAt: new Float64Array(RING), opened: false, failed: false };
  agents.push(agent);
  const base = Math.random();
  socket.on('open', () => {
    agent.opened = true;
    open++;
    socket.send(JSON.stringify({ type: 'hello', version: 'bench', protocol: 1 }));
    heartbeat(agent, base);
    // Spread the agents over the interval, as independently started boxes would be.
    agent.timer = setTimeout(() => {
      heartbeat(agent, base);
      agent.timer = setInterval(() => heartbeat(agent, base), start.intervalMs);
    }, Math.random() * start.intervalMs);
  });
  socket.on('message', (data: Buffer) => onAck(agent, data.toString('utf8')));
  socket.on('unexpected-response', () => { fail(agent); socket.terminate(); });
  socket.on('error', () => fail(agent));
  socket.on('close', () => {
    if (agent.opened) open--;
    agent.opened = false;
    fail(agent);
  });
}

function ramp(start: StartMessage): void {
  let next = 0;
  const step = () => {
    const end = Math.min(next + start.rampPerTick, start.credentials.length);
    for (; next < end; next++) connect(start, start.credentials[next] as string);
    if (next < start.credentials.length) setTimeout(step, start.rampTickMs);
  };
  step();
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'start') {
    ramp(message);
    setInterval(() => send({ type: 'status', open, failed, acks: totalAcks }), message.statusMs).unref();
  } else if (message.type === 'measure-start') {
    measuring = true;
    windowStart = performance.now();
    sent = 0; acks = 0; latencies = []; perSecond = [];
    loopDelay.reset();
    loopDelay.enable();
  } else if (message.type === 'measure-stop') {
    measuring = false;
    loopDelay.disable();
    send({
      type: 'figures', sent, acks, latencies, perSecond: Array.from(perSecond, (n) => n ?? 0), open, failed,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6,
    });
  }
});
// The parent going away (even killed) must not leave this process running.
process.on('disconnect', () => process.exit(0));
