/**
 * Credentials on the API. Every endpoint but the liveness check needs one: the admin token for
 * admin endpoints, an agent's own credential for the agent socket. Only hashes are stored.
 */
import type { FastifyRequest } from 'fastify';
import type {} from './ui/access.js'; // declares request.dashboard
import { CisternError } from '../errors.js';
import type { AgentRecord, ControllerStore } from './ports.js';
import { generateSecret, hashSecret, safeEqualHex } from './tokens.js';

const ADMIN_HASH_KEY = 'admin_token_hash';

export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** Makes the admin token on first start; returns it (to be shown once) or undefined if it exists. */
export function ensureAdminToken(store: ControllerStore): string | undefined {
  if (store.meta.get(ADMIN_HASH_KEY)) return undefined;
  const token = generateSecret('csa_');
  store.meta.set(ADMIN_HASH_KEY, hashSecret(token));
  return token;
}

/** Replaces the admin token (the old one stops working at once); returns the new one. */
export function rotateAdminToken(store: ControllerStore): string {
  const token = generateSecret('csa_');
  store.meta.set(ADMIN_HASH_KEY, hashSecret(token));
  return token;
}

/** The stored hash of the admin token (undefined before the first start). */
export function adminTokenHash(store: ControllerStore): string | undefined {
  return store.meta.get(ADMIN_HASH_KEY);
}

export function isAdminToken(store: ControllerStore, token: string): boolean {
  const stored = store.meta.get(ADMIN_HASH_KEY);
  return stored !== undefined && safeEqualHex(hashSecret(token), stored);
}

/** The admin token as a Bearer header, or a dashboard session (ui/access.ts) when there is none. */
export function requireAdmin(store: ControllerStore) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearer(request);
    if (!token && request.dashboard) {
      if (request.dashboard.ok) return;
      throw new CisternError('E_FORBIDDEN', request.dashboard.reason, { hint: 'reload the dashboard' });
    }
    const stored = store.meta.get(ADMIN_HASH_KEY);
    if (!token) throw new CisternError('E_UNAUTHORIZED', 'this endpoint needs the admin token', { hint: 'send Authorization: Bearer <admin token>' });
    if (!stored || !safeEqualHex(hashSecret(token), stored)) {
      if (token.startsWith('csm_')) throw new CisternError('E_FORBIDDEN', 'the scrape token reads metrics and targets only; admin endpoints need the admin token');
      throw new CisternError(token.startsWith('cag_') ? 'E_FORBIDDEN' : 'E_UNAUTHORIZED', token.startsWith('cag_') ? 'an agent credential cannot use admin endpoints' : 'the admin token is not valid');
    }
  };
}

export function authenticateAgent(store: ControllerStore, token: string | undefined): AgentRecord {
  if (!token) throw new CisternError('E_AGENT_UNKNOWN', 'the agent socket needs the agent\'s credential');
  const agent = store.agents.byCredentialHash(hashSecret(token));
  if (!agent) throw new CisternError('E_AGENT_UNKNOWN', 'no agent has this credential', { hint: 'register the agent again with a join token' });
  if (agent.revokedAt !== null) {
    throw new CisternError('E_AGENT_REVOKED', `agent ${agent.name} was revoked at ${new Date(agent.revokedAt).toISOString()}`, { hint: 'register it again with a new join token' });
  }
  return agent;
}
