/**
 * JSON over HTTPS to the controller, verified against its CA: the one client the agent and the
 * CLI share. Error answers carry a stable code (`{ error: { code, message, hint } }`) that
 * becomes the caller's CisternError; credentials travel only in the Authorization header and
 * never appear in an error.
 */
import { request } from 'node:https';
import { CisternError, ERROR_CODES, type ErrorCode } from '../errors.js';

export interface JsonResponse { status: number; body: unknown }

export interface JsonRequest {
  method: 'GET' | 'POST' | 'DELETE';
  caPem: string;
  body?: unknown;
  token?: string;
  timeoutMs?: number;
  /** Said when the controller cannot be reached at all. */
  unreachableHint?: string;
}

export function requestJson(url: string | URL, options: JsonRequest): Promise<JsonResponse> {
  const target = new URL(url);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: options.method,
      ca: options.caPem,
      timeout: timeoutMs,
      headers: {
        ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (text.length < 8_000_000) text += chunk; });
      res.on('end', () => {
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (error) => reject(new CisternError('E_CONTROLLER_UNREACHABLE', `cannot reach the controller at ${target.origin}: ${error.message}`, {
      cause: error, hint: options.unreachableHint,
    })));
    req.end(payload);
  });
}

/** The CisternError an error body describes (codes from the controller), or `fallback`. */
export function errorFromBody(status: number, body: unknown, fallback: ErrorCode): CisternError {
  const error = (body as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
  const code = error?.code && Object.hasOwn(ERROR_CODES, error.code) ? (error.code as ErrorCode) : fallback;
  return new CisternError(code, error?.message ?? `the controller answered HTTP ${status}`, { hint: error?.hint });
}
