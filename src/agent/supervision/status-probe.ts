/**
 * Runs a service's authenticated status probe once, with the credential the agent has, and
 * reads the answer: the verdict (a 401 or 403 means the key was refused: `misconfigured`), one
 * line of detail and the version the app reports. The key goes into the request and nowhere
 * else: should an answer ever echo it, `redact` takes it out of the detail.
 */
import { probeVerdict } from '../../services/probe-verdict.js';
import type { ServiceDefinition, StatusProbe } from '../../services/schema.js';
import { statusVersion } from '../../services/status-version.js';
import type { StatusReport } from '../../supervisor/index.js';
import type { ProbeCredential, ProbeRunner } from './probe-runner.js';

export interface StatusProbeInput {
  definition: ServiceDefinition & { status_probe: StatusProbe };
  credential: ProbeCredential;
  runner: ProbeRunner;
  /** The supervision policy's probe timeout; the status probe's own `timeout_ms` wins. */
  timeoutMs: number;
  now: () => number;
}

export async function runStatusProbe(input: StatusProbeInput): Promise<StatusReport> {
  const { definition, credential } = input;
  const probe = definition.status_probe;
  let report: Omit<StatusReport, 'checkedAt'>;
  try {
    const answer = await input.runner(probe, { port: definition.port, timeoutMs: probe.timeout_ms ?? input.timeoutMs, credential });
    const verdict = probeVerdict(definition, answer, { probe: 'status_probe', credential: true });
    const version = verdict.verdict === 'healthy' ? statusVersion(probe, answer) : undefined;
    report = { verdict: verdict.verdict, detail: verdict.detail, ...(version !== undefined && { version }) };
  } catch (error) {
    report = { verdict: 'unhealthy', detail: `${definition.name}: the status probe itself failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { ...report, detail: redact(report.detail, credential).slice(0, 500), checkedAt: input.now() };
}

/** `text` with every secret of the credential (and its URL-encoded form) replaced. */
export function redact(text: string, credential: ProbeCredential): string {
  let out = text;
  for (const secret of [credential.key, credential.password]) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('[redacted]');
  }
  return out;
}
