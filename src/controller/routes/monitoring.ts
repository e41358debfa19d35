/**
 * Monitoring endpoints. For Prometheus (the scrape token, or the admin token): GET /metrics and
 * GET /v1/sd/targets (HTTP service discovery). For the admin: POST /v1/monitoring/scrape-token
 * (a new scrape token, shown once) and GET /v1/monitoring/setup (what `cistern monitoring
 * generate` needs: the controller's URL and both CA certificates).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CisternError } from '../../errors.js';
import { SCRAPES } from '../../monitoring/targets.js';
import { bearer, requireAdmin } from '../auth.js';
import type { ControllerCore } from '../core.js';
import type { ControllerMonitoring } from '../monitoring.js';
import { hashSecret, safeEqualHex } from '../tokens.js';

const sdQuery = z.object({ scrape: z.enum(SCRAPES).optional() });

/** The scrape token or the admin token. */
function requireScraper(core: ControllerCore, monitoring: ControllerMonitoring) {
  const admin = requireAdmin(core.store);
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearer(request);
    if (token?.startsWith('csm_')) {
      const stored = monitoring.scrapeTokenHash();
      if (stored && safeEqualHex(hashSecret(token), stored)) return;
      throw new CisternError('E_UNAUTHORIZED', 'the scrape token is not valid', { hint: 'it may have been rotated: write the new one into Prometheus\' credentials file (`cistern monitoring token --out FILE`)' });
    }
    await admin(request);
  };
}

/** Times every API request (by route pattern, never the raw URL); call on the root app before routes are added. */
export function installRequestMetrics(app: FastifyInstance, monitoring: ControllerMonitoring): void {
  app.addHook('onResponse', async (request, reply) => {
    monitoring.metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
}

export function monitoringRoutes(app: FastifyInstance, deps: { core: ControllerCore; monitoring: ControllerMonitoring }): void {
  const { core, monitoring } = deps;
  const scraper = requireScraper(core, monitoring);
  const admin = requireAdmin(core.store);

  app.get('/metrics', { preHandler: scraper }, async (_request, reply) => {
    const { contentType, body } = await monitoring.metrics.scrape();
    return reply.type(contentType).send(body);
  });

  app.get('/v1/sd/targets', { preHandler: scraper }, async (request) => {
    const query = sdQuery.safeParse(request.query);
    if (!query.success) throw new CisternError('E_BAD_REQUEST', `query.scrape: one of ${SCRAPES.join(', ')}`);
    return monitoring.sd(query.data.scrape);
  });

  app.post('/v1/monitoring/scrape-token', { preHandler: admin }, async () => ({ token: monitoring.rotateScrapeToken() }));

  app.get('/v1/monitoring/setup', { preHandler: admin }, async () => monitoring.setup());
}
