/**
 * The SQLite store seen through the API's ports. Rows become views here, so no secret hash ever
 * reaches a route's answer.
 */
import type { EventSink, FleetEvent } from './events.js';
import type { AgentRecord, ControllerStore, JoinTokenView } from './ports.js';
import { openStore, type AgentRow, type JoinTokenRow, type Store } from './store/index.js';

function tokenView(row: JoinTokenRow): JoinTokenView {
  return { id: row.id, group: row.group, description: row.description, createdAt: row.createdAt, expiresAt: row.expiresAt, usesLeft: row.usesLeft, revokedAt: row.revokedAt, kind: row.kind };
}

function agentRecord(row: AgentRow): AgentRecord {
  return {
    id: row.id, name: row.name, hostname: row.hostname, address: row.address, credentialHash: row.credentialHash, ageRecipient: row.ageRecipient ?? '',
    group: row.group, facts: row.facts, createdAt: row.createdAt, lastSeenAt: row.lastSeenAt, revokedAt: row.revokedAt,
  };
}

export function adaptStore(store: Store): ControllerStore {
  const events: EventSink = {
    add: (event) => store.addEvent(event),
    list: (query) => store.listEvents(query).map((e) => ({ ...e, data: (e.data ?? {}) as FleetEvent['data'] })),
  };
  return {
    meta: { get: (key) => store.getMeta(key), set: (key, value) => store.setMeta(key, value) },
    tokens: {
      create: (token) => void store.createJoinToken(token),
      list: () => store.listJoinTokens().map(tokenView),
      redeem: (id, secretHash, now) => {
        const result = store.redeemJoinToken(id, secretHash, now);
        return result.ok ? { ok: true, token: tokenView(result.row) } : result;
      },
      revoke: (id, now) => store.revokeJoinToken(id, now),
    },
    agents: {
      create: (agent) => void store.createAgent(agent),
      get: (id) => { const row = store.getAgent(id); return row && agentRecord(row); },
      byCredentialHash: (hash) => { const row = store.getAgentByCredentialHash(hash); return row && agentRecord(row); },
      list: () => store.listAgents().map(agentRecord),
      updateFacts: (id, facts) => void store.updateFacts(id, facts),
      touch: (id, at) => store.touchLastSeen(id, at),
      revoke: (id, at) => store.revokeAgent(id, at),
    },
    rejected: {
      add: (box) => store.rejectBox(box),
      list: () => store.listRejectedBoxes(),
      remove: (fingerprint) => store.unrejectBox(fingerprint),
    },
    events,
    transaction: (fn) => store.transaction(fn),
    close: () => store.close(),
  };
}

export function openControllerStore(file: string): ControllerStore {
  return adaptStore(openStore(file));
}
