/**
 * First start of an agent: check the controller's CA against the fingerprint from the join
 * command before sending anything, then trade the join token for a per-agent credential, saved
 * in the state dir (0600). Later starts reuse the saved credential and need no token.
 */
import { hostname } from 'node:os';
import { CisternError } from '../errors.js';
import { PROTOCOL_VERSION, registerResponseSchema, type RegisterRequest } from '../protocol/messages.js';
import { VERSION } from '../version.js';
import { fetchPinnedCa } from './ca-pin.js';
import { errorFromBody, requestJson } from '../protocol/https-json.js';
import { loadCredential, loadOrCreateAgeIdentity, saveCredential } from './identity.js';

export interface Credential { agentId: string; token: string; controllerUrl: string; caPem: string; caFingerprint: string }

export interface EnrollOptions {
  stateDir: string;
  controllerUrl?: string;
  token?: string;
  caHash?: string;
  name?: string;
  collectFacts: () => Promise<Record<string, unknown>>;
}

export interface Enrollment { credential: Credential; name: string | undefined; registered: boolean; heartbeatIntervalMs: number | undefined }

export async function enroll(options: EnrollOptions): Promise<Enrollment> {
  const saved = await loadCredential(options.stateDir);
  if (saved) return { credential: saved, name: undefined, registered: false, heartbeatIntervalMs: undefined };
  if (!options.controllerUrl || !options.token || !options.caHash) {
    throw new CisternError('E_USAGE', 'this agent is not registered yet: --controller, --token and --ca-hash are needed once', {
      exitCode: 2, hint: 'run the command `cistern token create` printed on the controller',
    });
  }
  const base = options.controllerUrl.replace(/\/+$/, '');
  const { caPem, fingerprint } = await fetchPinnedCa(base, options.caHash);
  const { recipient } = await loadOrCreateAgeIdentity(options.stateDir);
  const request: RegisterRequest = {
    token: options.token,
    hostname: hostname(),
    ...(options.name !== undefined && { name: options.name }),
    version: `${VERSION} (protocol ${PROTOCOL_VERSION})`,
    ageRecipient: recipient,
    facts: await options.collectFacts(),
  };
  const response = await requestJson(`${base}/v1/register`, { method: 'POST', body: request, caPem });
  if (response.status !== 200) throw errorFromBody(response.status, response.body, 'E_REGISTRATION_REFUSED');
  const parsed = registerResponseSchema.safeParse(response.body);
  if (!parsed.success) throw new CisternError('E_REGISTRATION_REFUSED', 'the controller sent a registration answer this agent cannot read');
  const credential: Credential = { agentId: parsed.data.agentId, token: parsed.data.credential, controllerUrl: base, caPem, caFingerprint: fingerprint };
  await saveCredential(options.stateDir, credential);
  return { credential, name: parsed.data.name, registered: true, heartbeatIntervalMs: parsed.data.heartbeatIntervalMs };
}
