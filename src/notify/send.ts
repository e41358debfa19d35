/**
 * Sending one notification to one receiver: HTTP POSTs (webhook, ntfy, Discord, Slack) and SMTP
 * (nodemailer). Secrets are read from their files on every send, so a
 * rotated file takes effect without a restart. Each attempt has a timeout; failures that may
 * pass (network errors, HTTP 408, 429 and 5xx, SMTP 4xx) are retried a bounded number of times
 * with doubling waits, and a Retry-After is honoured up to a minute.
 *
 * A failure is described by what happened (HTTP 500, connection refused), never by the URL or
 * the server's answer text: URLs of Discord, Slack and ntfy carry tokens.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { createTransport } from 'nodemailer';
import { discordPayload, emailMessage, ntfyRequest, slackPayload, webhookPayload } from './format.js';
import type { Integration, SecretFile } from './receivers.js';
import type { Notification } from './types.js';

export interface Delivery {
  /** One attempt. */
  timeoutMs: number;
  /** Attempts after a failed one, for failures that may pass. */
  retries: number;
  /** Wait before the first retry, doubled for each next one. */
  retryBackoffMs: number;
}

export const DEFAULT_DELIVERY: Delivery = Object.freeze({ timeoutMs: 10_000, retries: 2, retryBackoffMs: 1_000 });

export interface SendContext {
  /** Where relative `*_file` paths are read from: the inventory's folder. */
  baseDir: string;
  /** The controller's URL, sent as Alertmanager's externalURL and generatorURL. */
  externalUrl: string;
  delivery: Delivery;
  /** Aborts waits and attempts in progress (the controller is shutting down). */
  signal: AbortSignal;
}

export type SendResult = { ok: true; attempts: number } | { ok: false; attempts: number; error: string };

/** A failed attempt; `retryable` when trying again may help. */
class AttemptFailed extends Error {
  constructor(message: string, readonly retryable: boolean, readonly retryAfterMs?: number) {
    super(message);
  }
}

const MAX_RETRY_AFTER_MS = 60_000;

/** The secret in `secret.file` (`field` names it in errors, e.g. "password_file"), trimmed. */
async function readSecret(secret: SecretFile, field: string, baseDir: string): Promise<string> {
  const file = isAbsolute(secret.file) ? secret.file : resolve(baseDir, secret.file);
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new AttemptFailed(`cannot read ${field} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, false);
  }
  if (text === '') throw new AttemptFailed(`${field} ${file} is empty`, false);
  return text;
}

async function readUrl(secret: SecretFile, field: string, baseDir: string): Promise<string> {
  const text = await readSecret(secret, field, baseDir);
  let url: URL | undefined;
  try { url = new URL(text); } catch { url = undefined; }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new AttemptFailed(`${field} ${secret.file} does not hold an http:// or https:// URL`, false);
  return text;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'no answer in time',
};

/** What went wrong with a fetch, from codes only (messages may name the URL). */
function fetchFailure(error: unknown, timeoutMs: number, signal: AbortSignal): AttemptFailed {
  if (signal.aborted) return new AttemptFailed('cancelled: the controller is shutting down', false);
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError') return new AttemptFailed(`no answer in ${timeoutMs} ms`, true);
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code && NETWORK_ERRORS[code]) return new AttemptFailed(`${NETWORK_ERRORS[code]} (${code})`, true);
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return new AttemptFailed(`TLS certificate refused (${code})`, false);
  return new AttemptFailed(`network error (${code ?? name ?? 'unknown'})`, true);
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}

async function post(url: string, request: { headers: Record<string, string>; body: string }, ctx: SendContext): Promise<void> {
  const { timeoutMs } = ctx.delivery;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]) });
  } catch (error) {
    throw fetchFailure(error, timeoutMs, ctx.signal);
  }
  // The answer is not needed; read it away (bounded by the timeout) so the connection is reused.
  await response.arrayBuffer().catch(() => undefined);
  if (response.ok) return;
  const status = response.status;
  throw new AttemptFailed(`HTTP ${status}`, status === 408 || status === 429 || status >= 500, retryAfterMs(response.headers.get('retry-after')));
}

const json = (value: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

async function sendEmail(integration: Extract<Integration, { type: 'email' }>, n: Notification, ctx: SendContext): Promise<void> {
  const password = integration.password ? await readSecret(integration.password, 'password_file', ctx.baseDir) : undefined;
  const { timeoutMs } = ctx.delivery;
  const implicitTls = integration.port === 465;
  const transport = createTransport({
    host: integration.host, port: integration.port, secure: implicitTls, requireTLS: integration.requireTls && !implicitTls,
    ...(integration.username !== undefined && { auth: { user: integration.username, pass: password ?? '' } }),
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
    disableFileAccess: true, disableUrlAccess: true,
  });
  try {
    await transport.sendMail({ from: integration.from, to: integration.to, ...emailMessage(n), signal: ctx.signal });
  } catch (error) {
    if (ctx.signal.aborted) throw new AttemptFailed('cancelled: the controller is shutting down', false);
    const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
    const smtp = typeof responseCode === 'number' ? responseCode : undefined;
    const what = typeof code === 'string' ? code : 'error';
    // Connection trouble and 4xx answers are temporary; a refused login or address is not.
    const retryable = smtp !== undefined ? smtp < 500 : what !== 'EAUTH' && what !== 'EENVELOPE' && what !== 'ETLS';
    throw new AttemptFailed(`SMTP ${what}${smtp !== undefined ? ` (${smtp})` : ''}`, retryable);
  } finally {
    transport.close();
  }
}

const bearer = async (secret: SecretFile | undefined, field: string, baseDir: string): Promise<Record<string, string>> =>
  (secret ? { authorization: `Bearer ${await readSecret(secret, field, baseDir)}` } : {});

async function attempt(integration: Integration, n: Notification, ctx: SendContext): Promise<void> {
  switch (integration.type) {
    case 'webhook': {
      const request = json(webhookPayload(n, { externalUrl: ctx.externalUrl }));
      return post(integration.url, { ...request, headers: { ...request.headers, ...(await bearer(integration.bearerToken, 'bearer_token_file', ctx.baseDir)) } }, ctx);
    }
    case 'ntfy': {
      const request = ntfyRequest(n);
      const headers = { ...request.headers, 'content-type': 'text/plain; charset=utf-8', ...(await bearer(integration.token, 'token_file', ctx.baseDir)) };
      return post(integration.url, { headers, body: request.body }, ctx);
    }
    case 'discord':
      return post(await readUrl(integration.url, 'webhook_url_file', ctx.baseDir), json(discordPayload(n)), ctx);
    case 'slack':
      return post(await readUrl(integration.url, 'webhook_url_file', ctx.baseDir), json(slackPayload(n, { ...(integration.channel !== undefined && { channel: integration.channel }) })), ctx);
    case 'email':
      return sendEmail(integration, n, ctx);
  }
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const finish = () => { clearTimeout(timer); signal.removeEventListener('abort', finish); done(); };
    const timer = setTimeout(finish, ms);
    signal.addEventListener('abort', finish);
  });
}

/** Sends `n` to one integration, retrying as the delivery settings allow. Never throws. */
export async function send(integration: Integration, n: Notification, ctx: SendContext): Promise<SendResult> {
  const { retries, retryBackoffMs } = ctx.delivery;
  for (let attempts = 1; ; attempts++) {
    try {
      await attempt(integration, n, ctx);
      return { ok: true, attempts };
    } catch (error) {
      // Not one of ours: its message may quote a header or URL, so only its kind is told.
      const failure = error instanceof AttemptFailed ? error : new AttemptFailed(`unexpected ${error instanceof Error ? error.name : typeof error}`, false);
      if (!failure.retryable || attempts > retries || ctx.signal.aborted) return { ok: false, attempts, error: failure.message };
      await wait(Math.max(retryBackoffMs * 2 ** (attempts - 1), failure.retryAfterMs ?? 0), ctx.signal);
      if (ctx.signal.aborted) return { ok: false, attempts, error: failure.message };
    }
  }
}
