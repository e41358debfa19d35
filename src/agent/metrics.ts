/**
 * The agent daemon's side of metrics: the process-wide agent metrics (which the supervisor also
 * reports to), labelled with this agent's version and hardware profile, fed by the controller
 * connection, and served by the metrics listener when one is asked for.
 */
import { CisternError } from '../errors.js';
import { agentMetrics, type AgentMetrics } from '../monitoring/agent-metrics.js';
import type { HelloMetrics } from '../protocol/messages.js';
import type { Logger } from '../util/logger.js';
import { VERSION } from '../version.js';
import { factsSchema } from './facts-schema.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { effectiveProfile } from './profile.js';

export interface AgentMetricsWiring {
  metrics: AgentMetrics;
  /** What the hello says about the listener (nothing when metrics are off). */
  hello(): { metrics?: HelloMetrics };
  /** The `configure-metrics` command. */
  configure(args: Record<string, unknown>): Promise<unknown>;
  /** Reads the connection state at each scrape. */
  watch(connection: { readonly connected: boolean }): void;
  close(): Promise<void>;
}

export async function startAgentMetrics(options: {
  /** Where to serve /metrics; absent: no listener (the metrics are still kept). */
  listen: { host: string; port: number } | undefined;
  stateDir: string;
  /** The box's facts, for the hardware profile in cistern_agent_info; not waited for. */
  facts: Promise<Record<string, unknown>>;
  logger: Logger;
}): Promise<AgentMetricsWiring> {
  const metrics = agentMetrics();
  metrics.setInfo({ version: VERSION, profile: 'unknown' });
  options.facts.then(
    (facts) => metrics.setInfo({ version: VERSION, profile: effectiveProfile({}, factsSchema.safeParse(facts).data).profile }),
    () => { /* the profile stays unknown */ },
  );
  const server: MetricsServer | undefined = options.listen
    ? await startMetricsServer({ ...options.listen, stateDir: options.stateDir, metrics, logger: options.logger })
    : undefined;
  return {
    metrics,
    hello: () => (server ? { metrics: server.hello() } : {}),
    configure: async (args) => {
      if (!server) throw new CisternError('E_BAD_REQUEST', 'this agent runs without a metrics listener (--no-metrics)');
      return server.configure(args);
    },
    watch: (connection) => metrics.setConnectionState(() => connection.connected),
    close: async () => { await server?.close(); },
  };
}
