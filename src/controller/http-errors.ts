/**
 * How errors answer over HTTP: one table from error code to status, and one error handler that
 * turns anything thrown by a route into `{ error: { code, message, hint } }` without leaking
 * internals or secrets.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { CisternError, type ErrorCode } from '../errors.js';
import { redact } from './tokens.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_USAGE: 400,
  E_BAD_REQUEST: 400,
  E_UNAUTHORIZED: 401,
  E_TOKEN_UNKNOWN: 401,
  E_TOKEN_EXPIRED: 401,
  E_TOKEN_USED_UP: 401,
  E_TOKEN_REVOKED: 401,
  E_AGENT_UNKNOWN: 401,
  E_AGENT_REVOKED: 403,
  E_FORBIDDEN: 403,
  E_SERVER_NOT_FOUND: 404,
  E_NOT_FOUND: 404,
  E_DISCOVERED_NOT_FOUND: 404,
  E_DISCOVERED_AMBIGUOUS: 409,
  E_NOT_APPROVABLE: 409,
  E_REJECTED_NOT_FOUND: 404,
  E_RATE_LIMITED: 429,
  E_AGENT_OFFLINE: 409,
  E_COMMAND_TIMEOUT: 504,
};

export function statusFor(error: CisternError): number {
  return STATUS[error.code] ?? 500;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof CisternError) {
      return reply.status(statusFor(error)).send({ error: { code: error.code, message: redact(error.message), ...(error.hint && { hint: error.hint }) } });
    }
    if (error.validation) {
      const first = error.validation[0];
      const field = `${error.validationContext ?? 'body'}${first?.instancePath ? first.instancePath.replace(/\//g, '.') : ''}`;
      return reply.status(400).send({ error: { code: 'E_BAD_REQUEST', message: `${request.method} ${request.routeOptions.url}: ${field} ${first?.message ?? 'is invalid'}` } });
    }
    if (error.statusCode === 429) {
      return reply.status(429).send({ error: { code: 'E_RATE_LIMITED', message: 'too many requests; try again later' } });
    }
    if (error.statusCode && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ error: { code: 'E_BAD_REQUEST', message: redact(error.message) } });
    }
    request.log.error({ err: { message: redact(error.message), stack: error.stack } }, 'request failed');
    return reply.status(500).send({ error: { code: 'E_INTERNAL', message: 'internal error; the controller log has details' } });
  });
}
