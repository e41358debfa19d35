/**
 * JSON over HTTPS to the controller, verified against the pinned CA. Error answers carry a
 * stable code that becomes the CisternError the agent stops with.
 */
import { request } from 'node:https';
import { CisternError, type ErrorCode } from '../errors.js';
import { ERROR_CODES } from '../errors.js';

export interface JsonResponse { status: number; body: unknown }

export function postJson(url: string, body: unknown, options: { caPem: string; timeoutMs?: number; token?: string }): Promise<JsonResponse> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      ca: options.caPem,
      timeout: options.timeoutMs ?? 15_000,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (text.length < 1_000_000) text += chunk; });
      res.on('end', () => {
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${new URL(url).origin} in ${options.timeoutMs ?? 15_000} ms`)));
    req.on('error', (error) => reject(new CisternError('E_CONTROLLER_UNREACHABLE', `cannot reach the controller at ${new URL(url).origin}: ${error.message}`, { cause: error })));
    req.end(payload);
  });
}

/** The CisternError an error body describes (codes from the controller), or a generic one. */
export function errorFromBody(status: number, body: unknown, fallback: ErrorCode): CisternError {
  const error = (body as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
  const code = error?.code && Object.hasOwn(ERROR_CODES, error.code) ? (error.code as ErrorCode) : fallback;
  return new CisternError(code, error?.message ?? `the controller answered HTTP ${status}`, { hint: error?.hint });
}
