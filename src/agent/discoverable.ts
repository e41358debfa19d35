/**
 * `--discoverable`: a box with neither join token nor provisioning key. It trusts the
 * controller's CA on first use (and keeps it pinned in its state dir from then on), holds a
 * connection to /v1/agent/pending, and waits until the admin approves it; the credential then
 * arrives over that connection sealed with age to this box's key, so nobody else can open it.
 */
import { Decrypter } from 'age-encryption';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { z } from 'zod';
import { CisternError } from '../errors.js';
import { pendingMessageSchema, type PendingHello } from '../protocol/messages.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Logger } from '../util/logger.js';
import { backoffDelay } from './backoff.js';
import { fetchCaOnFirstUse, fetchPinnedCa, type PinnedCa } from './ca-pin.js';
import type { Credential } from './enroll.js';
import { ensureStateDir } from './identity.js';

export const TOFU_PIN_FILE = 'controller-ca.json';
const pinSchema = z.object({ fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/), caPem: z.string() });

/**
 * The controller's CA: the one pinned on an earlier start, else the one it presents now, which
 * must be the one it advertised (when found by mDNS). The pin is saved before anything is sent.
 */
export async function trustController(stateDir: string, url: string, advertised: string | undefined): Promise<PinnedCa & { firstUse: boolean }> {
  const file = join(stateDir, TOFU_PIN_FILE);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const saved = text === undefined ? undefined : parsePin(text);
  if (text !== undefined && !saved) {
    throw new CisternError('E_AGENT_STATE', `${file} is damaged`, { hint: 'remove it to trust the controller on first use again (compare its CA fingerprint with the controller\'s)' });
  }
  if (saved) return { ...(await fetchPinnedCa(url, saved.fingerprint)), firstUse: false };
  const ca = await fetchCaOnFirstUse(url);
  if (advertised && advertised !== ca.fingerprint) {
    throw new CisternError('E_CA_MISMATCH', `the controller at ${url} presents CA ${ca.fingerprint} but advertised ${advertised}: refusing to talk to it`, {
      hint: 'something on the network may be impersonating the controller',
    });
  }
  // The first thing a --discoverable box without mDNS writes: its state folder may not exist yet.
  await ensureStateDir(stateDir);
  await writeFileAtomic(file, `${JSON.stringify({ fingerprint: ca.fingerprint, caPem: ca.caPem }, null, 2)}\n`, { mode: 0o600 });
  return { ...ca, firstUse: true };
}

function parsePin(text: string): z.infer<typeof pinSchema> | undefined {
  try {
    return pinSchema.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}

export interface ApprovalOptions {
  url: string;
  ca: PinnedCa;
  hello: PendingHello;
  /** The box's age identity, to open the sealed credential. */
  identity: string;
  logger: Logger;
  /** Each time the controller acknowledges the box (once per connection). */
  onWaiting?: (ack: { name: string; fingerprint: string }) => void;
  signal?: AbortSignal;
}

/** Holds the pending connection, reconnecting with backoff, until approved (or refused, or aborted). */
export interface Approval { credential: Credential; name: string; heartbeatIntervalMs: number }

export function waitForApproval(options: ApprovalOptions): Promise<Approval> {
  const { logger } = options;
  return new Promise((resolve, reject) => {
    let attempt = 0;
    let settled = false;
    let socket: WebSocket | undefined;
    let retry: NodeJS.Timeout | undefined;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(retry);
      options.signal?.removeEventListener('abort', onAbort);
      socket?.close(1000, 'done');
      outcome();
    };
    function onAbort(): void {
      settle(() => reject(new CisternError('E_REGISTRATION_REFUSED', 'stopped while waiting for approval')));
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const connect = () => {
      const current = new WebSocket(`${options.url.replace(/^http/, 'ws')}/v1/agent/pending`, { ca: options.ca.caPem, handshakeTimeout: 10_000, maxPayload: 64 * 1024 });
      socket = current;
      current.on('open', () => {
        attempt = 0;
        current.send(JSON.stringify(options.hello));
      });
      current.on('message', (data) => {
        let json: unknown;
        try { json = JSON.parse(data.toString()); } catch { json = undefined; }
        const message = pendingMessageSchema.safeParse(json);
        if (!message.success) return;
        const m = message.data;
        if (m.type === 'pending-ack') options.onWaiting?.({ name: m.name, fingerprint: m.fingerprint });
        else if (m.type === 'rejected') settle(() => reject(new CisternError('E_REGISTRATION_REFUSED', `the controller refused this box: ${m.reason}`)));
        else {
          open(m.sealedCredential, options.identity).then(
            (token) => settle(() => resolve({
              credential: { agentId: m.agentId, token, controllerUrl: options.url, caPem: options.ca.caPem, caFingerprint: options.ca.fingerprint },
              name: m.name, heartbeatIntervalMs: m.heartbeatIntervalMs,
            })),
            () => settle(() => reject(new CisternError('E_REGISTRATION_REFUSED', 'the credential sent on approval cannot be opened with this box\'s key'))),
          );
        }
      });
      current.on('error', (error) => logger.warn({ err: error.message }, 'the pending connection to the controller failed'));
      current.on('close', () => {
        if (settled || socket !== current) return;
        const delay = backoffDelay(attempt++);
        logger.info({ delayMs: delay }, 'reconnecting to wait for approval');
        retry = setTimeout(connect, delay);
      });
    };
    connect();
  });
}

async function open(sealed: string, identity: string): Promise<string> {
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  return decrypter.decrypt(Buffer.from(sealed, 'base64'), 'text');
}
