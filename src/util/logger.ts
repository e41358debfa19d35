/**
 * Structured JSON logs for the daemons (pino). Credentials are redacted by path, and any token
 * text that slips into a message is masked by `redact` in the serializers.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'req.headers.authorization', 'headers.authorization', 'authorization',
  'token', '*.token', 'credential', '*.credential', 'secret', '*.secret', 'adminToken',
];

export function createLogger(options: { name: string; level?: string; destination?: NodeJS.WritableStream } = { name: 'cistern' }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.CISTERN_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? process.stderr,
  );
}

/** A logger that drops everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
