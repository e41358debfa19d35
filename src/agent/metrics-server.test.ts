import { statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCA, type CertificateAuthority } from '../controller/ca.js';
import { generateSecret, hashSecret } from '../controller/tokens.js';
import { createAgentMetrics } from '../monitoring/agent-metrics.js';
import { signAgentCert } from '../monitoring/agents-ca.js';
import { tempDir } from '../testing/tmp.js';
import { silentLogger } from '../util/logger.js';
import { METRICS_CONFIG_FILE, METRICS_KEY_FILE, startMetricsServer, type MetricsServer } from './metrics-server.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(stateDir: string): Promise<MetricsServer> {
  const metrics = createAgentMetrics({ processMetrics: false });
  metrics.recordProbe('jellyfin', 'healthy', 0.01);
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0, stateDir, metrics, logger: silentLogger() });
  servers.push(server);
  return server;
}

function get(server: MetricsServer, ca: CertificateAuthority, token?: string, path = '/metrics'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, ca: ca.certPem, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function configure(server: MetricsServer, ca: CertificateAuthority, scrapeTokenHash: string | null): Promise<void> {
  const { certPem } = await signAgentCert(ca, server.hello().publicKey, { dnsNames: [], ips: ['127.0.0.1'] });
  await server.configure({ scrapeTokenHash, certPem });
}

describe('the agent\'s metrics listener', () => {
  it('serves nothing before the controller certified it, then /metrics to the scrape token only', async () => {
    const dir = tempDir();
    const ca = await createCA({ commonName: 'agents CA' });
    const server = await start(dir);
    expect(server.hello()).toMatchObject({ port: server.port, host: '127.0.0.1' });
    await expect(get(server, ca)).rejects.toThrow();
    await configure(server, ca, null);
    expect((await get(server, ca, 'csm_x')).status).toBe(503);
    const token = generateSecret('csm_');
    await configure(server, ca, hashSecret(token));
    expect((await get(server, ca)).status).toBe(401);
    expect((await get(server, ca, generateSecret('csm_'))).status).toBe(401);
    const ok = await get(server, ca, token);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('cistern_agent_service_up{service="jellyfin"} 1');
    expect((await get(server, ca, token, '/')).status).toBe(404);
  });

  it('keeps its key and configuration (0600), so a restarted agent serves at once', async () => {
    const dir = tempDir();
    const ca = await createCA();
    const token = generateSecret('csm_');
    const first = await start(dir);
    await configure(first, ca, hashSecret(token));
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    const second = await start(dir);
    expect(second.hello().publicKey).toBe(first.hello().publicKey);
    expect((await get(second, ca, token)).status).toBe(200);
    for (const file of [METRICS_KEY_FILE, METRICS_CONFIG_FILE]) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a certificate made for another key', async () => {
    const ca = await createCA();
    const server = await start(tempDir());
    const other = await start(tempDir());
    const { certPem } = await signAgentCert(ca, other.hello().publicKey, { dnsNames: [], ips: ['127.0.0.1'] });
    await expect(server.configure({ scrapeTokenHash: null, certPem })).rejects.toThrow(/not for this agent's metrics key/);
  });

  it('says which flag to change when its port is taken', async () => {
    const server = await start(tempDir());
    await expect(startMetricsServer({ host: '127.0.0.1', port: server.port, stateDir: tempDir(), metrics: createAgentMetrics({ processMetrics: false }), logger: silentLogger() }))
      .rejects.toMatchObject({ code: 'E_LISTEN', hint: expect.stringContaining('--metrics-listen') });
  });
});
