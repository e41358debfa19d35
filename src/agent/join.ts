/**
 * How an agent gets its credential, in order: the one saved on an earlier start; a join token
 * with the controller's URL and CA fingerprint; a provisioning key (controller found by mDNS,
 * CA checked against the key); or, with `--discoverable`, approval by the admin.
 */
import { hostname } from 'node:os';
import { CisternError } from '../errors.js';
import type { Mdns } from '../discovery/mdns.js';
import { parseProvisioningKey } from '../discovery/provisioning-key.js';
import { keyFingerprint, shortFingerprint } from '../discovery/records.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import type { Logger } from '../util/logger.js';
import { VERSION } from '../version.js';
import { trustController, waitForApproval } from './discoverable.js';
import { enroll, type Enrollment } from './enroll.js';
import type { Facts } from './facts-schema.js';
import { findController } from './find-controller.js';
import { loadCredential, saveCredential, type AgeKeyPair } from './identity.js';

export interface JoinOptions {
  stateDir: string;
  controllerUrl?: string;
  token?: string;
  caHash?: string;
  provisioningKey?: string;
  discoverable?: boolean;
  name?: string;
  /** How long to look for the controller on the network before giving up (provisioning key). */
  findTimeoutMs?: number;
}

export interface JoinContext {
  /** The box's age key pair, made on first use. */
  identity: () => Promise<AgeKeyPair>;
  facts: () => Promise<Facts>;
  mdns: Mdns | undefined;
  logger: Logger;
  /** Lines for the person at the box (fingerprint to compare, what to run on the controller). */
  status: (line: string) => void;
  signal?: AbortSignal;
}

const FIND_TIMEOUT_MS = 60_000;

export async function join(options: JoinOptions, ctx: JoinContext): Promise<Enrollment> {
  const saved = await loadCredential(options.stateDir);
  if (saved) return { credential: saved, name: undefined, registered: false, heartbeatIntervalMs: undefined };
  const collectFacts = async () => (await ctx.facts()) as unknown as Record<string, unknown>;

  if (options.token || options.caHash) {
    return enroll({ stateDir: options.stateDir, controllerUrl: options.controllerUrl, token: options.token, caHash: options.caHash, name: options.name, collectFacts });
  }

  if (options.provisioningKey !== undefined) {
    const key = parseProvisioningKey(options.provisioningKey);
    if (!key) {
      throw new CisternError('E_PROVISIONING_KEY', 'the provisioning key is malformed: expected cpk_<id>.<secret>.<CA sha256 hex>', {
        exitCode: 2, hint: 'copy it again from `cistern token create --provisioning`',
      });
    }
    const controllerUrl = options.controllerUrl ?? (await locate(ctx, key.caFingerprint, options.findTimeoutMs)).url;
    ctx.logger.info({ controller: controllerUrl, key: key.tokenId }, 'registering with a provisioning key');
    // enroll checks the CA in the TLS handshake against the key's fingerprint before sending the token.
    return enroll({ stateDir: options.stateDir, controllerUrl, token: key.token, caHash: key.caFingerprint, name: options.name, collectFacts });
  }

  if (options.discoverable) {
    const found = options.controllerUrl ? { url: options.controllerUrl.replace(/\/+$/, ''), caFingerprint: undefined } : await locate(ctx, undefined, Number.POSITIVE_INFINITY);
    const ca = await trustController(options.stateDir, found.url, found.caFingerprint);
    if (ca.firstUse) ctx.status(`trusting the controller at ${found.url} on first use: its CA is ${ca.fingerprint}`);
    const identity = await ctx.identity();
    const fingerprint = keyFingerprint(identity.recipient);
    let told = false;
    const approval = await waitForApproval({
      url: found.url, ca, identity: identity.identity, logger: ctx.logger, ...(ctx.signal && { signal: ctx.signal }),
      hello: {
        type: 'pending-hello', hostname: hostname(), ...(options.name !== undefined && { name: options.name }),
        version: `${VERSION} (protocol ${PROTOCOL_VERSION})`, ageRecipient: identity.recipient, facts: await collectFacts(),
      },
      onWaiting: (ack) => {
        if (told) return;
        told = true;
        ctx.status(`waiting for approval as "${ack.name}"; this box's key fingerprint is ${shortFingerprint(fingerprint)}`);
        ctx.status(`compare it with \`cistern discover\` on the controller, then run: cistern discover approve ${ack.name}`);
      },
    });
    await saveCredential(options.stateDir, approval.credential);
    return { credential: approval.credential, name: approval.name, registered: true, heartbeatIntervalMs: approval.heartbeatIntervalMs };
  }

  throw new CisternError('E_USAGE', 'this agent is not registered yet: give it a join token (--controller, --token, --ca-hash), a --provisioning-key, or --discoverable', {
    exitCode: 2, hint: 'run the command `cistern token create` printed on the controller',
  });
}

async function locate(ctx: JoinContext, caFingerprint: string | undefined, timeoutMs = FIND_TIMEOUT_MS) {
  if (!ctx.mdns) {
    throw new CisternError('E_USAGE', 'finding the controller needs mDNS: drop --no-mdns, or give --controller URL', { exitCode: 2 });
  }
  ctx.logger.info('looking for the controller on the local network (mDNS)');
  return findController(ctx.mdns, { timeoutMs, ...(caFingerprint && { caFingerprint }), ...(ctx.signal && { signal: ctx.signal }) });
}
