/**
 * What a probe answer means for a service: a pure function from (definition, answer, context) to
 * a verdict. The agent runs the probe; the health state machine acts on the verdict:
 *
 * - healthy: nothing to do;
 * - starting: wait — never restart (Jellyfin's "Degraded" during a database migration, an *arr
 *   app's 503 while starting, a refused port within the start grace);
 * - unhealthy: a restart may help;
 * - misconfigured: report to the admin — a restart cannot help (Transmission's 403 and 421, a
 *   401 for a missing or refused key, a path that is not there).
 *
 * Order: the probe's own `answers` rules (notable answers, first match wins), then its `expect`,
 * then the generic reading of the status code below.
 */
import type { AnswerRule, Expect, HttpProbe, Probe, ServiceDefinition, StatusProbe, Verdict } from './schema.js';

export type ProbeAnswer =
  | { kind: 'http'; status: number; headers?: Readonly<Record<string, string>>; body?: string }
  /** A TCP connection was established. */
  | { kind: 'tcp' }
  | { kind: 'exit'; code: number | null; signal?: string }
  /** No answer at all. */
  | { kind: 'failed'; reason: 'refused' | 'timeout' | 'reset' | 'unreachable' | 'tls'; message?: string };

export interface VerdictContext {
  /** Which of the service's probes answered (default the cheap `probe`). */
  probe?: 'probe' | 'status_probe';
  /** The agent sent a key or credential with the request. */
  credential?: boolean;
  /** Seconds since systemd last started the unit, when known. */
  uptimeSeconds?: number;
}

export interface ProbeVerdict {
  verdict: Verdict;
  /** One short line for people: what was seen and what it means. */
  detail: string;
}

export function probeVerdict(service: ServiceDefinition, answer: ProbeAnswer, context: VerdictContext = {}): ProbeVerdict {
  const which = context.probe ?? 'probe';
  const probe: Probe | StatusProbe | null | undefined = which === 'probe' ? service.probe : service.status_probe;
  if (!probe) throw new Error(`service ${service.name} has no ${which}`);
  const name = service.name;

  if (answer.kind === 'failed') return noAnswer(service, answer, context);
  if (answer.kind === 'tcp') return { verdict: 'healthy', detail: `${name}: port accepts connections` };
  if (answer.kind === 'exit') {
    if (probe.kind !== 'command') throw new Error(`${name}: a command exit for a ${probe.kind} probe`);
    return exitVerdict(name, probe.expect_exit ?? [0], answer);
  }
  if (probe.kind !== 'http') throw new Error(`${name}: an HTTP answer for a ${probe.kind} probe`);
  return httpVerdict(name, probe, answer, context.credential === true);
}

function noAnswer(service: ServiceDefinition, answer: Extract<ProbeAnswer, { kind: 'failed' }>, context: VerdictContext): ProbeVerdict {
  const what = {
    refused: 'connection refused', timeout: 'no answer in time', reset: 'connection reset',
    unreachable: 'address unreachable', tls: 'TLS handshake failed',
  }[answer.reason];
  if (answer.reason === 'tls') {
    return { verdict: 'misconfigured', detail: `${service.name}: ${what} (the probe's tls setting does not match the service)` };
  }
  const uptime = context.uptimeSeconds;
  if (uptime !== undefined && uptime < service.start_grace_s) {
    return { verdict: 'starting', detail: `${service.name}: ${what}, ${Math.floor(uptime)} s after start (grace ${service.start_grace_s} s); wait` };
  }
  return { verdict: 'unhealthy', detail: `${service.name}: ${what}` };
}

function exitVerdict(name: string, healthy: readonly number[], answer: Extract<ProbeAnswer, { kind: 'exit' }>): ProbeVerdict {
  if (answer.code === null) return { verdict: 'unhealthy', detail: `${name}: probe command killed${answer.signal ? ` by ${answer.signal}` : ''}` };
  if (healthy.includes(answer.code)) return { verdict: 'healthy', detail: `${name}: probe command exited ${answer.code}` };
  // The shell's conventions: 126 found but not executable, 127 not found.
  if (answer.code === 126 || answer.code === 127) {
    return { verdict: 'misconfigured', detail: `${name}: probe command ${answer.code === 127 ? 'not found' : 'not executable'} (exit ${answer.code})` };
  }
  return { verdict: 'unhealthy', detail: `${name}: probe command exited ${answer.code}` };
}

type HttpAnswer = Extract<ProbeAnswer, { kind: 'http' }>;

function httpVerdict(name: string, probe: HttpProbe | StatusProbe, answer: HttpAnswer, credential: boolean): ProbeVerdict {
  const seen = `HTTP ${answer.status}${shortBody(answer)}`;
  const rule = probe.answers?.find((r) => matches(r, answer));
  if (rule) return { verdict: rule.verdict, detail: `${rule.detail} [${seen}]` };
  if (probe.expect ? matches(probe.expect, answer) : answer.status >= 200 && answer.status < 300) {
    return { verdict: 'healthy', detail: `${name}: ${seen}` };
  }
  const status = answer.status;
  // With a key sent, 401 and 403 both mean it was refused (Jellyseerr, for one, answers 403).
  if (credential && (status === 401 || status === 403)) {
    return { verdict: 'misconfigured', detail: `${name} refused the agent's key or credential [${seen}]; check the key in the agent's --service-keys file or the app's config file` };
  }
  if (status === 401) return { verdict: 'misconfigured', detail: `${name} wants a key or credential the agent does not have [${seen}]` };
  if (status === 403) return { verdict: 'misconfigured', detail: `${name} refused the probe [${seen}]; report, do not restart` };
  if (status >= 300 && status < 400) {
    const location = header(answer, 'location');
    return { verdict: 'misconfigured', detail: `${name} redirected ${probe.path}${location ? ` to ${location}` : ''} [HTTP ${status}]: a URL base, HTTPS redirect or login page; set the probe's path` };
  }
  if (status >= 400 && status < 500) {
    return { verdict: 'misconfigured', detail: `${name}: ${probe.path} was not accepted [${seen}]: another program on the port, a URL base, or a version without this endpoint` };
  }
  return { verdict: 'unhealthy', detail: `${name}: unexpected answer [${seen}]` };
}

/** Every condition the rule gives holds for the answer. */
export function matches(rule: Expect | AnswerRule, answer: HttpAnswer): boolean {
  if (rule.status !== undefined && ![rule.status].flat().includes(answer.status)) return false;
  const body = answer.body ?? '';
  if (rule.body !== undefined && body.trim() !== rule.body) return false;
  if (rule.body_contains !== undefined && !body.toLowerCase().includes(rule.body_contains.toLowerCase())) return false;
  if (rule.header !== undefined && header(answer, rule.header) === undefined) return false;
  if (rule.content_type !== undefined) {
    const type = header(answer, 'content-type') ?? '';
    if (!type.toLowerCase().startsWith(rule.content_type.toLowerCase())) return false;
  }
  if (rule.json !== undefined || rule.json_keys !== undefined) {
    const value = parseJsonObject(body);
    if (!value) return false;
    if (rule.json && !Object.entries(rule.json).every(([key, want]) => Object.hasOwn(value, key) && value[key] === want)) return false;
    if (rule.json_keys && !rule.json_keys.every((key) => Object.hasOwn(value, key))) return false;
  }
  return true;
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(answer.headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A one-word body (Jellyfin's "Healthy"/"Degraded") is worth showing; a page is not. */
function shortBody(answer: HttpAnswer): string {
  const body = (answer.body ?? '').trim();
  return body.length > 0 && body.length <= 24 && !body.includes('\n') ? ` "${body}"` : '';
}
