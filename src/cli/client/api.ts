/**
 * The CLI's client of the controller API: the admin token in the Authorization header, TLS
 * verified against the controller's CA. Error answers become CisternErrors with their code.
 */
import { errorFromBody, requestJson } from '../../protocol/https-json.js';
import type { ClientConfig } from './config.js';

export interface ApiClient {
  get<T>(path: string, options?: { timeoutMs?: number }): Promise<T>;
  post<T>(path: string, body: unknown, options?: { timeoutMs?: number }): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

export function apiClient(config: ClientConfig): ApiClient {
  const call = async <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, timeoutMs?: number): Promise<T> => {
    const response = await requestJson(new URL(path, config.controller), {
      method, body, timeoutMs, caPem: config.caPem, token: config.token,
      unreachableHint: 'is `cistern controller` (or `cistern up`) running?',
    });
    if (response.status >= 300) throw errorFromBody(response.status, response.body, 'E_API');
    return response.body as T;
  };
  return {
    get: (path, options) => call('GET', path, undefined, options?.timeoutMs),
    post: (path, body, options) => call('POST', path, body, options?.timeoutMs),
    delete: (path) => call('DELETE', path),
  };
}
