/**
 * The CLI's HTTPS client of the controller API: admin token in the Authorization header, TLS
 * verified against the controller's CA. Error answers become CisternErrors with their code;
 * nothing here ever prints the token.
 */
import { request } from 'node:https';
import { CisternError, ERROR_CODES, type ErrorCode } from '../../errors.js';
import type { ClientConfig } from './config.js';

export interface ApiClient {
  get<T>(path: string, options?: { timeoutMs?: number }): Promise<T>;
  post<T>(path: string, body: unknown, options?: { timeoutMs?: number }): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

export function apiClient(config: ClientConfig): ApiClient {
  const call = <T>(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> => {
    const url = new URL(path, config.controller);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(url, {
        method,
        ca: config.caPem,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${config.token}`,
          ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('end', () => {
          let json: unknown;
          try { json = JSON.parse(text); } catch { json = undefined; }
          if ((res.statusCode ?? 500) < 300) return resolve(json as T);
          const error = (json as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
          const code: ErrorCode = error?.code && Object.hasOwn(ERROR_CODES, error.code) ? (error.code as ErrorCode) : 'E_API';
          reject(new CisternError(code, error?.message ?? `${method} ${url.pathname}: HTTP ${res.statusCode}`, { hint: error?.hint }));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', (error) => reject(new CisternError('E_CONTROLLER_UNREACHABLE', `cannot reach the controller at ${config.controller}: ${error.message}`, {
        hint: 'is `cistern controller` (or `cistern up`) running?',
      })));
      req.end(payload);
    });
  };
  return {
    get: (path, options) => call('GET', path, undefined, options?.timeoutMs),
    post: (path, body, options) => call('POST', path, body, options?.timeoutMs),
    delete: (path) => call('DELETE', path),
  };
}
