/**
 * `cistern agent`: enroll once (or reuse the saved credential), then keep one connection to the
 * controller, heartbeating and answering commands, until stopped or refused for good.
 */
import type { CisternError } from '../errors.js';
import { applyAuthorizedKeysCommand } from '../keys/local-apply.js';
import type { Logger } from '../util/logger.js';
import { AgentConnection } from './connection.js';
import { enroll } from './enroll.js';
import { collectFacts } from './facts.js';
import { loadSampler } from './load.js';

export interface AgentOptions {
  stateDir: string;
  controllerUrl?: string;
  token?: string;
  caHash?: string;
  name?: string;
  logger: Logger;
  /** Heartbeat interval until the controller says otherwise. */
  intervalMs?: number;
}

export interface RunningAgent {
  agentId: string;
  name: string | undefined;
  registered: boolean;
  connection: AgentConnection;
  /** Resolves when the controller refuses the agent for good (revoked, unknown). */
  refused: Promise<CisternError>;
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const facts = () => collectFacts();
  const enrollment = await enroll({
    stateDir: options.stateDir, controllerUrl: options.controllerUrl, token: options.token, caHash: options.caHash, name: options.name,
    collectFacts: async () => (await facts()) as unknown as Record<string, unknown>,
  });
  if (enrollment.registered) options.logger.info({ agent: enrollment.name, controller: enrollment.credential.controllerUrl }, 'registered with the controller');
  let onRefused: (error: CisternError) => void = () => {};
  const refused = new Promise<CisternError>((resolve) => { onRefused = resolve; });
  const connection = new AgentConnection({
    credential: enrollment.credential,
    logger: options.logger,
    intervalMs: enrollment.heartbeatIntervalMs ?? options.intervalMs ?? 5_000,
    sampleLoad: loadSampler(),
    handlers: {
      ping: async () => ({ pong: true, at: new Date().toISOString() }),
      'collect-facts': async () => facts(),
      'apply-authorized-keys': (args) => applyAuthorizedKeysCommand(args, { logger: options.logger }),
    },
    onFatal: (error) => {
      options.logger.error({ code: error.code }, error.message);
      onRefused(error);
    },
  });
  connection.start();
  return {
    agentId: enrollment.credential.agentId,
    name: enrollment.name,
    registered: enrollment.registered,
    connection,
    refused,
    stop: () => connection.stop(),
  };
}
