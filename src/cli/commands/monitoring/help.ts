/** Help shared by the `cistern monitoring` commands. */
export const MONITORING_HELP = [
  'Prometheus and Alertmanager for the fleet:',
  '  cistern monitoring token --out FILE     a scrape token for Prometheus (rotates the old one)',
  '  cistern monitoring generate --out DIR   prometheus.yml, alert rules and their tests, alertmanager.yml',
  '  cistern monitoring targets              what Prometheus scrapes, from the controller\'s service discovery',
  'Prometheus finds every target through the controller (GET /v1/sd/targets), so new servers need no',
  'new configuration. It authenticates with the scrape token (csm_…), which reads metrics and targets',
  'only; agents serve /metrics over HTTPS with a certificate from the controller\'s agents CA.',
].join('\n');
