/**
 * The agents' WebSocket connections: one per agent, opened by the agent (so a box behind NAT is
 * fully manageable). Commands travel down it with an id and a timeout; results come back up.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CisternError } from '../errors.js';
import type { CommandName, CommandResultMessage, ControllerMessage } from '../protocol/messages.js';

interface Pending {
  /** The agent the command went to: only that agent's connection may answer it. */
  agentId: string;
  resolve: (result: CommandResultMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class Hub {
  private readonly sockets = new Map<string, WebSocket>();
  private readonly pending = new Map<string, Pending>();

  attach(agentId: string, socket: WebSocket): void {
    const previous = this.sockets.get(agentId);
    // A reconnecting agent replaces its old connection.
    if (previous && previous !== socket) previous.close(4000, 'replaced by a newer connection');
    this.sockets.set(agentId, socket);
  }

  /** Forgets a closed socket; false when a newer connection had already replaced it. */
  detach(agentId: string, socket: WebSocket): boolean {
    if (this.sockets.get(agentId) !== socket) return false;
    this.sockets.delete(agentId);
    this.failPending(agentId, 'the agent disconnected before answering');
    return true;
  }

  /** Commands sent to an agent that is gone will never be answered: fail them now. */
  private failPending(agentId: string, message: string): void {
    for (const [id, p] of this.pending) {
      if (p.agentId !== agentId) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new CisternError('E_AGENT_OFFLINE', message));
    }
  }

  isConnected(agentId: string): boolean {
    return this.sockets.has(agentId);
  }

  send(agentId: string, message: ControllerMessage): boolean {
    const socket = this.sockets.get(agentId);
    if (!socket || socket.readyState !== socket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  disconnect(agentId: string, code: number, reason: string): void {
    this.sockets.get(agentId)?.close(code, reason);
    this.sockets.delete(agentId);
    this.failPending(agentId, reason);
  }

  command(agentId: string, name: CommandName, args: Record<string, unknown>, timeoutMs: number): Promise<CommandResultMessage> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CisternError('E_COMMAND_TIMEOUT', `command ${name} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { agentId, resolve, reject, timer });
      if (!this.send(agentId, { type: 'command', id, name, args, timeoutMs })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new CisternError('E_AGENT_OFFLINE', 'the agent is not connected', { hint: 'commands reach an agent only over the connection it holds' }));
      }
    });
  }

  /**
   * Settles a pending command with the result `agentId` sent. A result for a command sent to
   * another agent is dropped, so one agent's credential cannot answer for another.
   */
  result(agentId: string, message: CommandResultMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending || pending.agentId !== agentId) return;
    clearTimeout(pending.timer);
    this.pending.delete(message.id);
    pending.resolve(message);
  }

  closeAll(code = 1001, reason = 'controller shutting down'): void {
    for (const socket of this.sockets.values()) socket.close(code, reason);
    this.sockets.clear();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new CisternError('E_AGENT_OFFLINE', 'the controller is shutting down'));
      this.pending.delete(id);
    }
  }
}
