/**
 * The one error type users see. Each code is documented in docs/errors.md; a plain `Error`
 * anywhere else means a bug, and the CLI reports it as one.
 */
export const ERROR_CODES = {
  E_USAGE: 'the command line is malformed',
  E_SELECTOR: 'a server selector (--on) is malformed',
  E_FILE_NOT_FOUND: 'the inventory file does not exist',
  E_FILE_READ: 'a file could not be read',
  E_INVENTORY_INVALID: 'the inventory has errors',
  E_INVENTORY_UNCHANGED_INVALID: 'an edit would leave the inventory invalid; nothing was written',
  E_SERVER_NOT_FOUND: 'no server has that name',
  E_SERVER_EXISTS: 'a server with that name already exists',
  E_TEMPLATE_NOT_FOUND: 'no template has that name',
  E_TEMPLATE: 'a template failed to render',
  E_LOCK: 'the inventory lock could not be taken',
  E_CONFIRM: 'a destructive action needs confirmation',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CisternErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Process exit code the CLI uses: 2 for usage errors, 1 otherwise. */
  exitCode?: number;
  /** Structured details for `--json` output (never secrets). */
  details?: unknown;
}

export class CisternError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: CisternErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CisternError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? (code === 'E_USAGE' || code === 'E_SELECTOR' ? 2 : 1);
    this.details = options.details;
  }
}

export function usageError(message: string, hint?: string): CisternError {
  return new CisternError('E_USAGE', message, { hint, exitCode: 2 });
}

export function isCisternError(error: unknown): error is CisternError {
  return error instanceof CisternError;
}
