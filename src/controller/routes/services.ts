/**
 * Admin endpoints for service distribution: the placement in force and why, the plan against it,
 * applying it, moving one service, forcing a failover, and the alerts firing now.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CisternError } from '../../errors.js';
import { firingAlerts } from '../alerts.js';
import { requireAdmin } from '../auth.js';
import type { ControllerCore } from '../core.js';
import type { ServiceManager } from '../services/manager.js';

const moveBody = z.object({ to: z.string().min(1).max(63) });
const failoverBody = z.object({ to: z.string().min(1).max(63).optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new CisternError('E_BAD_REQUEST', `${where}.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
}

export function serviceRoutes(app: FastifyInstance, core: ControllerCore, services: ServiceManager): void {
  app.addHook('preHandler', requireAdmin(core.store));
  app.get('/v1/services', async () => ({ services: services.view() }));
  app.get('/v1/alerts', async () => ({ alerts: firingAlerts(core.servers(), services.view()) }));
  app.get('/v1/services/plan', async () => services.plan());
  app.post('/v1/services/apply', async () => services.apply());
  app.post<{ Params: { name: string } }>('/v1/services/:name/move', async (request) => {
    const body = parse(moveBody, request.body ?? {}, 'body');
    return services.move(request.params.name, body.to);
  });
  app.post<{ Params: { name: string } }>('/v1/services/:name/failover', async (request) => {
    const body = parse(failoverBody, request.body ?? {}, 'body');
    return services.failover(request.params.name, body.to);
  });
}
