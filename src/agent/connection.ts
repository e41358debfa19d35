/**
 * The agent's one outbound connection to the controller (a WebSocket over TLS, verified against
 * the pinned CA). Heartbeats go up every interval; commands come down and their results go up.
 * Lost connections are retried with jittered exponential backoff; a revoked or unknown agent
 * stops for good with an error that says which.
 */
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { isCisternError, type CisternError } from '../errors.js';
import { commandSchema, controllerMessageSchema, PROTOCOL_VERSION, type CommandName, type Heartbeat, type HelloMetrics, type Load, type MountHealth } from '../protocol/messages.js';
import type { Logger } from '../util/logger.js';
import { VERSION } from '../version.js';
import type { AgentEvent } from '../protocol/messages.js';
import { backoffDelay } from './backoff.js';
import type { Credential } from './enroll.js';
import { errorFromBody } from '../protocol/https-json.js';

export type CommandHandler = (args: Record<string, unknown>) => Promise<unknown>;

export interface ConnectionOptions {
  credential: Credential;
  logger: Logger;
  intervalMs: number;
  sampleLoad: () => Promise<Load>;
  probeServices?: () => Heartbeat['services'];
  /** The latest mount health (mount-health.ts), sent with every heartbeat once there is one. */
  mounts?: () => MountHealth[] | undefined;
  /** The paths the controller wants mount health for, from each heartbeat's ack. */
  onWatch?: (paths: string[]) => void;
  /** Each acknowledgement's leases on single-writer services (service → epoch), valid `ttlMs` from now. */
  onLeases?: (leases: Record<string, number>, ttlMs: number) => void;
  handlers: Record<CommandName, CommandHandler>;
  /** Called once when the controller refuses this agent for good. */
  onFatal: (error: CisternError) => void;
  /** What the hello message says besides the version: the agent's metrics listener. */
  hello?: () => { metrics?: HelloMetrics };
  /** Called with the round-trip time of each acknowledged heartbeat (benchmarks). */
  onAck?: (rttMs: number) => void;
}

const FATAL_CODES = new Set(['E_AGENT_REVOKED', 'E_AGENT_UNKNOWN']);
/** Events kept while disconnected; older ones are dropped. */
const OUTBOX_MAX = 200;

export class AgentConnection {
  private socket: WebSocket | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private seq = 0;
  private stopped = false;
  private intervalMs: number;
  private readonly sent = new Map<number, number>();
  private readonly outbox: string[] = [];

  constructor(private readonly options: ConnectionOptions) {
    this.intervalMs = options.intervalMs;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends an event to the controller's log now, or once connected again. */
  sendEvent(event: Omit<AgentEvent, 'type'>): void {
    const text = JSON.stringify({ type: 'event', ...event });
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(text);
      return;
    }
    this.outbox.push(text);
    if (this.outbox.length > OUTBOX_MAX) this.outbox.shift();
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000, 'agent stopping');
      setTimeout(() => { socket.terminate(); resolve(); }, 2_000).unref();
    });
  }

  private connect(): void {
    const { credential, logger } = this.options;
    const url = `${credential.controllerUrl.replace(/^http/, 'ws')}/v1/agent/connect`;
    const socket = new WebSocket(url, {
      ca: credential.caPem,
      headers: { authorization: `Bearer ${credential.token}` },
      handshakeTimeout: 10_000,
      maxPayload: 4 * 1024 * 1024,
    });
    this.socket = socket;
    socket.on('open', () => {
      this.attempt = 0;
      logger.info({ controller: credential.controllerUrl }, 'connected to the controller');
      socket.send(JSON.stringify({ type: 'hello', version: VERSION, protocol: PROTOCOL_VERSION, ...this.options.hello?.() }));
      this.scheduleHeartbeats();
      void this.heartbeat();
      for (const queued of this.outbox.splice(0)) socket.send(queued);
    });
    socket.on('message', (data) => this.receive(data.toString()));
    socket.on('unexpected-response', (_req, res: IncomingMessage) => this.refused(socket, res));
    socket.on('error', (error) => logger.warn({ err: error.message }, 'connection to the controller failed'));
    socket.on('close', () => {
      clearInterval(this.heartbeatTimer);
      if (this.socket === socket) this.socket = undefined;
      if (!this.stopped) this.reconnect();
    });
  }

  private refused(socket: WebSocket, res: IncomingMessage): void {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => { text += chunk; });
    res.once('error', () => socket.terminate());
    res.on('end', () => {
      let body: unknown;
      try { body = JSON.parse(text); } catch { body = undefined; }
      const error = errorFromBody(res.statusCode ?? 0, body, 'E_CONTROLLER_UNREACHABLE');
      const fatal = FATAL_CODES.has(error.code);
      if (fatal) {
        this.stopped = true;
        clearTimeout(this.reconnectTimer);
      } else this.options.logger.warn({ status: res.statusCode, code: error.code }, error.message);
      // ws leaves the handshake hanging once 'unexpected-response' is handled: abort it, so the
      // socket closes and, unless refused for good, reconnects.
      socket.terminate();
      if (fatal) this.options.onFatal(error);
    });
  }

  private reconnect(): void {
    const delay = backoffDelay(this.attempt++);
    this.options.logger.info({ delayMs: delay, attempt: this.attempt }, 'reconnecting to the controller');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private scheduleHeartbeats(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.intervalMs);
  }

  private async heartbeat(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const seq = this.seq++;
    const load = await this.options.sampleLoad().catch(() => undefined);
    const mounts = this.options.mounts?.();
    const message: Heartbeat = { type: 'heartbeat', seq, sentAt: Date.now(), ...(load && { load }), services: this.options.probeServices?.() ?? {}, ...(mounts && { mounts }) };
    this.sent.set(seq, performance.now());
    if (this.sent.size > 100) this.sent.delete(this.sent.keys().next().value as number);
    socket.send(JSON.stringify(message));
  }

  private receive(text: string): void {
    let json: unknown;
    try { json = JSON.parse(text); } catch { return; }
    const parsed = controllerMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.options.logger.warn('ignored a malformed message from the controller');
      return;
    }
    const message = parsed.data;
    if (message.type === 'ack') {
      const started = this.sent.get(message.seq);
      if (started !== undefined) {
        this.sent.delete(message.seq);
        this.options.onAck?.(performance.now() - started);
      }
      if (message.watch) this.options.onWatch?.(message.watch);
      if (message.leases && message.leaseTtlMs) this.options.onLeases?.(message.leases, message.leaseTtlMs);
      if (message.intervalMs !== this.intervalMs) {
        this.intervalMs = message.intervalMs;
        this.scheduleHeartbeats();
      }
      return;
    }
    void this.run(commandSchema.parse(message));
  }

  private async run(command: { id: string; name: CommandName; args: Record<string, unknown> }): Promise<void> {
    let reply: Record<string, unknown>;
    try {
      reply = { type: 'result', id: command.id, ok: true, data: await this.options.handlers[command.name](command.args) };
    } catch (error) {
      // A CisternError keeps its code and hint, so the CLI can show them as if it had failed itself.
      const coded = isCisternError(error) ? { code: error.code, ...(error.hint !== undefined && { hint: error.hint.slice(0, 2000) }) } : {};
      reply = { type: 'result', id: command.id, ok: false, error: (error instanceof Error ? error.message : String(error)).slice(0, 2000), ...coded };
    }
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(reply));
  }
}
