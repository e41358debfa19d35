/**
 * The agent's metrics listener: HTTPS on 0.0.0.0:9810 (AGENT_PORT) unless told otherwise,
 * serving GET /metrics to whoever holds the fleet's scrape token.
 *
 * The TLS key is made here and never leaves the box (`metrics-key.pem`, 0600); the hello tells
 * the controller its public half, and the controller answers with `configure-metrics`: a
 * certificate from its agents CA (a CA of its own, which agents never trust for the controller
 * connection) and the SHA-256 of the scrape token. Both are kept in `metrics.json`, so after a
 * restart the agent serves at once, even while the controller is away. Until the first
 * configuration, TLS handshakes fail and nothing is served.
 */
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';
import { CisternError } from '../errors.js';
import type { AgentMetrics } from '../monitoring/agent-metrics.js';
import { configureMetricsSchema, type ConfigureMetrics, type HelloMetrics } from '../protocol/messages.js';
import { hashSecret, safeEqualHex } from '../controller/tokens.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Logger } from '../util/logger.js';
import { ensureStateDir } from './identity.js';

export const METRICS_KEY_FILE = 'metrics-key.pem';
export const METRICS_CONFIG_FILE = 'metrics.json';

const savedSchema = z.object({ version: z.literal(1), scrapeTokenHash: z.string().nullable(), certPem: z.string() });

export interface MetricsServerOptions {
  host: string;
  /** 0: any free port (the hello says which). */
  port: number;
  stateDir: string;
  metrics: AgentMetrics;
  logger: Logger;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** For the hello: where the listener is and its public key. */
  hello(): HelloMetrics;
  /** The `configure-metrics` command: takes the certificate and scrape token hash, and keeps them. */
  configure(args: Record<string, unknown>): Promise<{ configured: true; notAfter: string }>;
  close(): Promise<void>;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CisternError('E_AGENT_STATE', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function loadOrCreateKey(stateDir: string): Promise<{ keyPem: string; publicKeyPem: string }> {
  await ensureStateDir(stateDir);
  const path = join(stateDir, METRICS_KEY_FILE);
  const existing = await readOptional(path);
  if (existing !== undefined) {
    try {
      return { keyPem: existing, publicKeyPem: createPublicKey(existing).export({ type: 'spki', format: 'pem' }).toString() };
    } catch {
      throw new CisternError('E_AGENT_STATE', `${path} holds no usable private key`, { hint: `remove ${path}: the agent makes a new one and the controller certifies it` });
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await writeFileAtomic(path, keyPem, { mode: 0o600 });
  return { keyPem, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The certificate's not-after, or undefined when it is not for `publicKeyPem` or cannot be read. */
function certificateFor(certPem: string, publicKeyPem: string): Date | undefined {
  try {
    const cert = new X509Certificate(certPem);
    const ours = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
    return cert.publicKey.export({ type: 'spki', format: 'der' }).equals(ours) ? new Date(cert.validTo) : undefined;
  } catch {
    return undefined;
  }
}

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { keyPem, publicKeyPem } = await loadOrCreateKey(options.stateDir);
  const configPath = join(options.stateDir, METRICS_CONFIG_FILE);
  let scrapeTokenHash: string | null = null;
  let certPem: string | undefined;
  const saved = savedSchema.safeParse(JSON.parse((await readOptional(configPath)) ?? 'null'));
  // A saved certificate for another key (the key file was replaced) is dropped: the controller sends a new one.
  if (saved.success && certificateFor(saved.data.certPem, publicKeyPem)) ({ scrapeTokenHash, certPem } = saved.data);

  const answer = (response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') return answer(response, 404, 'not found: this agent serves /metrics only');
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'method not allowed', { allow: 'GET, HEAD' });
    if (scrapeTokenHash === null) return answer(response, 503, 'no scrape token yet: create one with `cistern monitoring token`');
    const token = bearer(request);
    if (!token || !safeEqualHex(hashSecret(token), scrapeTokenHash)) {
      return answer(response, 401, token ? 'the scrape token is not valid' : 'send Authorization: Bearer <scrape token>', { 'www-authenticate': 'Bearer' });
    }
    const { contentType, body } = await options.metrics.scrape();
    response.writeHead(200, { 'content-type': contentType });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  const server: Server = createServer(certPem ? { key: keyPem, cert: certPem } : {}, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.logger.error({ err: (error as Error).message }, 'metrics request failed');
      if (!response.headersSent) answer(response, 500, 'internal error');
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 65_000; // longer than Prometheus' scrape interval: connections are reused
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'EADDRINUSE' ? 'the address is in use' : error.code === 'EACCES' ? 'permission denied' : error.code === 'EADDRNOTAVAIL' ? 'no such address on this box' : error.message;
    throw new CisternError('E_LISTEN', `the agent cannot serve metrics on ${options.host}:${options.port}: ${why}`, {
      hint: 'pick another address with --metrics-listen HOST:PORT, or turn metrics off with --no-metrics', cause: error,
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.info({ host: options.host, port, configured: certPem !== undefined }, 'metrics listener started');

  return {
    host: options.host,
    port,
    hello: () => ({ port, ...(options.host !== '' && { host: options.host }), publicKey: publicKeyPem }),
    async configure(args) {
      const parsed = configureMetricsSchema.safeParse(args);
      if (!parsed.success) throw new CisternError('E_BAD_REQUEST', `configure-metrics: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      const config: ConfigureMetrics = parsed.data;
      const notAfter = certificateFor(config.certPem, publicKeyPem);
      if (!notAfter) throw new CisternError('E_BAD_REQUEST', 'configure-metrics: the certificate is not for this agent\'s metrics key');
      server.setSecureContext({ key: keyPem, cert: config.certPem });
      ({ scrapeTokenHash, certPem } = config);
      await writeFileAtomic(configPath, `${JSON.stringify({ version: 1, ...config })}\n`, { mode: 0o600 });
      options.logger.info({ notAfter: notAfter.toISOString(), scrapeToken: config.scrapeTokenHash !== null }, 'metrics listener configured');
      return { configured: true, notAfter: notAfter.toISOString() };
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
