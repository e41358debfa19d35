/** Whether a metric name is one that Cistern's agent or controller, or a named exporter, exports. */
import { AGENT_METRICS, CONTROLLER_METRICS, EXPORTER_METRICS } from '../metric-names.js';

/**
 * The histograms in metric-names.ts: Prometheus serves each as `<name>_bucket`, `_sum` and
 * `_count` series, never under the bare name.
 */
const HISTOGRAMS: readonly string[] = [
  AGENT_METRICS.probeDuration, AGENT_METRICS.heartbeatRtt, CONTROLLER_METRICS.heartbeatLatency, CONTROLLER_METRICS.apiDuration,
];

const EXPORTED: ReadonlySet<string> = new Set([
  ...Object.values(AGENT_METRICS).filter((name) => !HISTOGRAMS.includes(name)),
  ...Object.values(CONTROLLER_METRICS).filter((name) => !HISTOGRAMS.includes(name)),
  ...HISTOGRAMS.flatMap((name) => [`${name}_bucket`, `${name}_sum`, `${name}_count`]),
  ...Object.values(EXPORTER_METRICS).flat(),
]);

export function isExportedMetric(name: string): boolean {
  return EXPORTED.has(name);
}
