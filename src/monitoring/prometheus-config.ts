/**
 * prometheus.yml for the fleet. Every target comes from the controller's HTTP service discovery
 * (GET /v1/sd/targets), so a new server is scraped without generating anything again. All scrape
 * configs share one identical SD config, which Prometheus fetches once per refresh, and each keeps
 * its own targets by the `__meta_cistern_scrape` label. Paths are relative to the file's folder,
 * as Prometheus reads them.
 */
import { SCRAPE_LABEL, type Scrape } from './targets.js';

export const FILES = {
  prometheus: 'prometheus.yml',
  alertmanager: 'alertmanager.yml',
  rules: 'rules/cistern.rules.yml',
  ruleTests: 'rules/cistern.rules.test.yml',
  controllerCa: 'secrets/controller-ca.pem',
  agentsCa: 'secrets/agents-ca.pem',
  scrapeToken: 'secrets/scrape-token',
  readme: 'README.md',
  grafana: 'grafana',
} as const;

export interface PrometheusOptions {
  /** The controller's API, e.g. https://192.168.1.5:7443. */
  controllerUrl: string;
  scrapeInterval: string;
  evaluationInterval: string;
  /** HOST:PORT of Alertmanager. */
  alertmanager: string;
}

export function prometheusConfig(options: PrometheusOptions): Record<string, unknown> {
  const authorization = { type: 'Bearer', credentials_file: FILES.scrapeToken };
  const sd = {
    url: `${options.controllerUrl.replace(/\/+$/, '')}/v1/sd/targets`,
    refresh_interval: options.scrapeInterval,
    authorization,
    tls_config: { ca_file: FILES.controllerCa },
  };
  const job = (name: Scrape, extra: Record<string, unknown> = {}) => ({
    job_name: name,
    ...extra,
    http_sd_configs: [sd],
    relabel_configs: [{ source_labels: [SCRAPE_LABEL], regex: name, action: 'keep' }],
  });
  return {
    global: { scrape_interval: options.scrapeInterval, evaluation_interval: options.evaluationInterval },
    rule_files: [FILES.rules],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
    scrape_configs: [
      job('cistern-controller', { scheme: 'https', authorization, tls_config: { ca_file: FILES.controllerCa } }),
      job('cistern-agent', { scheme: 'https', authorization, tls_config: { ca_file: FILES.agentsCa } }),
      job('node'),
      job('exportarr'),
      // A service's own endpoint: its path comes with the target (__metrics_path__).
      job('service'),
    ],
  };
}
