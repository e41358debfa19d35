/**
 * POST /v1/register: a new agent trades a join token for its own credential. Rate-limited per
 * client address, since it is the one endpoint that takes a guessable-looking secret.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { registerRequestSchema } from '../../protocol/messages.js';
import type { ControllerCore } from '../core.js';

const bodySchema = z.toJSONSchema(registerRequestSchema, { target: 'draft-7' });

export function registerRoute(app: FastifyInstance, core: ControllerCore, perMinute: number): void {
  app.post('/v1/register', {
    schema: { body: bodySchema },
    config: { rateLimit: { max: perMinute, timeWindow: 60_000 } },
  }, async (request) => {
    const body = registerRequestSchema.parse(request.body);
    const response = core.register(body);
    request.log.info({ agent: response.name, hostname: body.hostname }, 'agent registered');
    return response;
  });
}
