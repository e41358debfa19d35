/** Registered agents: identity, credential hash, and the facts they last reported. */
import { CisternError } from '../../errors.js';
import type { Db } from './db.js';

export type Json = Record<string, unknown>;

export interface AgentRow {
  id: string;
  name: string;
  hostname: string;
  address: string | null;
  /** `hashSecret` of the agent's `cag_` credential. */
  credentialHash: string;
  /** The agent's age public key, for secrets sent to it. */
  ageRecipient: string | null;
  group: string | null;
  facts: Json;
  profile: Json;
  createdAt: number;
  lastSeenAt: number | null;
  revokedAt: number | null;
}

export type NewAgent = Pick<AgentRow, 'id' | 'name' | 'hostname' | 'credentialHash' | 'createdAt'> &
  Partial<Pick<AgentRow, 'address' | 'ageRecipient' | 'group' | 'facts' | 'profile'>>;

export interface AgentStore {
  /** Throws E_AGENT_EXISTS if the name is taken. */
  createAgent(agent: NewAgent): AgentRow;
  getAgent(id: string): AgentRow | undefined;
  getAgentByName(name: string): AgentRow | undefined;
  /** Revoked agents are returned too, so the caller can say why it refuses: check `revokedAt`. */
  getAgentByCredentialHash(credentialHash: string): AgentRow | undefined;
  /** By name. */
  listAgents(): AgentRow[];
  /** False if no such agent. */
  updateFacts(id: string, facts: Json): boolean;
  /** Called on every heartbeat; never moves the time backwards. */
  touchLastSeen(id: string, at: number): void;
  /** False if no such agent. Revoking twice keeps the first time. */
  revokeAgent(id: string, at?: number): boolean;
  /** False if no such agent; throws E_AGENT_EXISTS if the name is taken. */
  renameAgent(id: string, name: string): boolean;
}

interface RawAgent extends Omit<AgentRow, 'facts' | 'profile'> { facts: string; profile: string }

const COLUMNS = `SELECT id, name, hostname, address, credential_hash AS credentialHash, age_recipient AS ageRecipient,
  grp AS "group", facts, profile, created_at AS createdAt, last_seen_at AS lastSeenAt, revoked_at AS revokedAt FROM agents`;

export function agentStore(db: Db): AgentStore {
  const insert = db.prepare<[RawAgent], void>(`INSERT INTO agents
    (id, name, hostname, address, credential_hash, age_recipient, grp, facts, profile, created_at, last_seen_at, revoked_at)
    VALUES (@id, @name, @hostname, @address, @credentialHash, @ageRecipient, @group, @facts, @profile, @createdAt, @lastSeenAt, @revokedAt)`);
  const byId = db.prepare<[string], RawAgent>(`${COLUMNS} WHERE id = ?`);
  const byName = db.prepare<[string], RawAgent>(`${COLUMNS} WHERE name = ?`);
  // A plain index lookup is fine here: the key is the hash of 256 random bits, not the secret.
  const byCredential = db.prepare<[string], RawAgent>(`${COLUMNS} WHERE credential_hash = ?`);
  const list = db.prepare<[], RawAgent>(`${COLUMNS} ORDER BY name`);
  const setFacts = db.prepare<[string, string], void>('UPDATE agents SET facts = ? WHERE id = ?');
  const touch = db.prepare<[number, string, number], void>(
    'UPDATE agents SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)',
  );
  const revoke = db.prepare<[number, string], void>('UPDATE agents SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?');
  const rename = db.prepare<[string, string], void>('UPDATE agents SET name = ? WHERE id = ?');

  return {
    createAgent(agent) {
      const raw: RawAgent = {
        id: agent.id, name: agent.name, hostname: agent.hostname, address: agent.address ?? null,
        credentialHash: agent.credentialHash, ageRecipient: agent.ageRecipient ?? null, group: agent.group ?? null,
        facts: JSON.stringify(agent.facts ?? {}), profile: JSON.stringify(agent.profile ?? {}),
        createdAt: agent.createdAt, lastSeenAt: null, revokedAt: null,
      };
      nameTaken(agent.name, () => insert.run(raw));
      return fromRaw(raw);
    },
    getAgent: (id) => optional(byId.get(id)),
    getAgentByName: (name) => optional(byName.get(name)),
    getAgentByCredentialHash: (hash) => optional(byCredential.get(hash)),
    listAgents: () => list.all().map(fromRaw),
    updateFacts: (id, facts) => setFacts.run(JSON.stringify(facts), id).changes > 0,
    touchLastSeen: (id, at) => void touch.run(at, id, at),
    revokeAgent: (id, at = Date.now()) => revoke.run(at, id).changes > 0,
    renameAgent: (id, name) => nameTaken(name, () => rename.run(name, id).changes > 0),
  };
}

/** Turns the UNIQUE violation on `name` into a user-facing error; other failures are bugs. */
function nameTaken<T>(name: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof Error && (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && error.message.includes('agents.name')) {
      throw new CisternError('E_AGENT_EXISTS', `an agent named "${name}" already exists`, {
        hint: 'pick another name (--name), or revoke and remove the old agent first',
      });
    }
    throw error;
  }
}

function optional(raw: RawAgent | undefined): AgentRow | undefined {
  return raw && fromRaw(raw);
}

function fromRaw(raw: RawAgent): AgentRow {
  return { ...raw, facts: JSON.parse(raw.facts) as Json, profile: JSON.parse(raw.profile) as Json };
}
