/**
 * The one error type users see. Each code is documented in docs/errors.md; a plain `Error`
 * anywhere else means a bug, and the CLI reports it as one.
 */
export const ERROR_CODES = {
  E_USAGE: 'the command line is malformed',
  E_SELECTOR: 'a server selector (--on) is malformed',
  E_FILE_NOT_FOUND: 'the inventory file does not exist',
  E_FILE_READ: 'a file could not be read',
  E_FILE_WRITE: 'a file could not be written',
  E_INVENTORY_INVALID: 'the inventory has errors',
  E_INVENTORY_UNCHANGED_INVALID: 'an edit would leave the inventory invalid; nothing was written',
  E_SERVER_NOT_FOUND: 'no server has that name',
  E_SERVER_EXISTS: 'a server with that name already exists',
  E_TEMPLATE_NOT_FOUND: 'no template has that name',
  E_TEMPLATE: 'a template failed to render',
  E_LOCK: 'the inventory lock could not be taken',
  E_CONFIRM: 'a destructive action needs confirmation',
  E_AGENT_STATE: "a file in the agent's state directory is damaged",
  E_CA_MISMATCH: "the controller's CA does not match the fingerprint in the join command",
  E_CONTROLLER_UNREACHABLE: 'the controller could not be reached',
  E_PKI_INVALID: "the controller's certificate files are unusable",
  E_STORE_VERSION: 'the state database was written by a newer cistern',
  E_AGENT_EXISTS: 'an agent with that name already exists',
  E_REGISTRATION_REFUSED: 'the controller refused to register the agent',
  E_TOKEN_UNKNOWN: 'the join token is not one the controller made',
  E_TOKEN_EXPIRED: 'the join token has expired',
  E_TOKEN_USED_UP: 'the join token has no uses left',
  E_TOKEN_REVOKED: 'the join token was revoked',
  E_AGENT_UNKNOWN: 'no agent has this credential',
  E_AGENT_REVOKED: "the agent's credential was revoked",
  E_AGENT_OFFLINE: 'the agent is not connected',
  E_COMMAND_TIMEOUT: 'an agent did not answer a command in time',
  E_UNAUTHORIZED: 'the request has no valid credential',
  E_FORBIDDEN: 'the credential may not use this endpoint',
  E_BAD_REQUEST: 'a request body or query is malformed',
  E_NOT_FOUND: 'no such object',
  E_RATE_LIMITED: 'too many requests',
  E_INTERNAL: 'the controller failed; its log has details',
  E_API: 'the controller answered with an unexpected error',
  E_CLIENT_CONFIG: 'the CLI does not know which controller to talk to',
  E_LISTEN: 'the controller, or an agent\'s metrics listener, cannot listen on its address',
  E_GROUP_NOT_FOUND: 'no group has that name',
  E_KEY_EXISTS: 'an SSH key with that name already exists at that level',
  E_KEY_NOT_FOUND: 'no SSH key has that name at that level',
  E_SSH_IDENTITY: "the admin's SSH credential (--identity or ssh-agent) is missing or unusable",
  E_SSH_CONNECT: 'an SSH connection to a server failed',
  E_SSH_AUTH: 'a server refused SSH authentication',
  E_SSH_TIMEOUT: 'an SSH operation on a server did not finish in time',
  E_SSH_SFTP: 'a file operation over SFTP failed on a server',
  E_HOST_KEY_CHANGED: "a server's SSH host key differs from the one Cistern pinned",
  E_KNOWN_HOSTS: "cistern's known_hosts file cannot be read or written",
  E_AUTHORIZED_KEYS: "a server's authorized_keys cannot be updated safely",
  E_USER_NOT_FOUND: "the deploy user is not in the server's /etc/passwd",
  E_DISCOVERED_NOT_FOUND: 'no discovered box has that name or key fingerprint',
  E_DISCOVERED_AMBIGUOUS: 'several discovered boxes match; name one by its key fingerprint',
  E_NOT_APPROVABLE: 'a discovered box holds no connection to receive its credential over',
  E_REJECTED_NOT_FOUND: 'no rejected box has that name or key fingerprint',
  E_CONTROLLER_NOT_FOUND: 'no controller with the expected CA was found on the local network',
  E_PROVISIONING_KEY: 'the provisioning key is malformed',
  E_SERVICE_DRIVER: 'a service could not be started, stopped, restarted or read by its driver',
  E_SERVICE_KEYS: "the agent's service keys file (--service-keys) is refused: unreadable, open to others, or malformed",
  E_NOTIFY_CONFIG: 'the notification settings in the inventory (monitoring.receivers, routes) are refused',
  E_NOTIFY_SEND: 'a notification receiver did not take a message',
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
