import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Inventory } from '../inventory/schema.js';
import { CONTROLLER_NOTIFIES, alertmanagerConfig } from './alertmanager-config.js';
import { monitoringFields } from './config-schema.js';
import { FILES, generateMonitoring } from './generate.js';
import { unknownMetricNames } from './metric-check.js';
import { ruleTests } from './rule-tests.js';
import { ALERT_NAMES, alertRules, durationSeconds, thresholds } from './rules.js';

const inventory: Inventory = {
  servers: {
    eden: { hostname: '192.168.1.10', services: ['jellyfin', 'sonarr', 'prometheus', 'grafana'] },
    attic: { hostname: '192.168.1.11', services: ['alertmanager'] },
  },
  monitoring: {
    prometheus_port: 9090, alertmanager_port: 9093, scrape_interval: '15s',
    alerts: { disk_full_percent: 85, server_down_after: '2m' },
    receivers: {
      phone: { type: 'ntfy', url: 'https://ntfy.example.org/fleet', token_file: 'secrets/ntfy-token' },
      family: { type: 'discord', webhook_url_file: 'secrets/discord-url' },
    },
    routes: [{ receiver: 'family', severity: 'critical', alerts: ['ServerDown'], match: { location: 'home' } }],
  },
};

const generate = (over: Partial<Parameters<typeof generateMonitoring>[0]> = {}) => generateMonitoring({
  inventory, controllerUrl: 'https://192.168.1.5:7443', caPem: 'CA PEM', agentsCaPem: 'AGENTS CA PEM', ...over,
});
const file = (g: ReturnType<typeof generateMonitoring>, path: string) => g.files.find((f) => f.path === path);

describe('monitoring generate', () => {
  it('writes Prometheus, rules with tests, Alertmanager, both CAs, Grafana and a README; no secret', () => {
    const g = generate();
    expect(g.files.map((f) => f.path)).toEqual(expect.arrayContaining([
      FILES.prometheus, FILES.rules, FILES.ruleTests, FILES.alertmanager, FILES.controllerCa, FILES.agentsCa, FILES.readme,
      'grafana/provisioning/datasources/cistern.yaml', 'grafana/dashboards/fleet-overview.json',
    ]));
    expect(file(g, FILES.scrapeToken)).toBeUndefined();
    expect(file(g, FILES.readme)?.content).toContain('`secrets/scrape-token`: the scrape token');
    expect(g.secrets.map((s) => s.path)).toEqual(['secrets/ntfy-token', 'secrets/discord-url.slack']);
  });

  it('writes an issued scrape token 0600, and nothing else secret', () => {
    const g = generate({ scrapeToken: 'csm_1a2b3c4d.secret' });
    expect(file(g, FILES.scrapeToken)).toEqual({ path: FILES.scrapeToken, content: 'csm_1a2b3c4d.secret\n', mode: 0o600 });
    expect(g.files.filter((f) => f.path !== FILES.scrapeToken && f.content.includes('csm_1a2b3c4d'))).toEqual([]);
  });

  it('finds every target through the controller, one shared SD config, each job keeping its own', () => {
    const config = parse(file(generate(), FILES.prometheus)?.content ?? '') as any;
    expect(config.global).toEqual({ scrape_interval: '15s', evaluation_interval: '30s' });
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['192.168.1.11:9093']);
    expect(config.scrape_configs.map((s: any) => s.job_name)).toEqual(['cistern-controller', 'cistern-agent', 'node', 'exportarr', 'service']);
    for (const scrape of config.scrape_configs) {
      expect(scrape.http_sd_configs).toEqual([{
        url: 'https://192.168.1.5:7443/v1/sd/targets', refresh_interval: '15s',
        authorization: { type: 'Bearer', credentials_file: 'secrets/scrape-token' }, tls_config: { ca_file: 'secrets/controller-ca.pem' },
      }]);
      expect(scrape.relabel_configs).toEqual([{ source_labels: ['__meta_cistern_scrape'], regex: scrape.job_name, action: 'keep' }]);
    }
    expect(config.scrape_configs[1]).toMatchObject({ scheme: 'https', tls_config: { ca_file: 'secrets/agents-ca.pem' } });
  });

  it('points Grafana at Prometheus on the server that runs it', () => {
    const datasource = file(generate(), 'grafana/provisioning/datasources/cistern.yaml')?.content;
    expect(datasource).toContain('url: http://localhost:9090');
  });

  it('uses only metric names that Cistern or a named exporter exports, in rules and dashboards', () => {
    const g = generate();
    expect(unknownMetricNames(g.files)).toEqual([]);
    expect(unknownMetricNames([{ path: 'rules/x.rules.yml', content: 'groups: [{name: g, rules: [{alert: A, expr: "made_up_total > 0"}]}]' }]))
      .toEqual([{ file: 'rules/x.rules.yml', name: 'made_up_total' }]);
  });
});

describe('alert rules', () => {
  it('has the nine alerts, each with a severity, a summary and a description', () => {
    const rules = alertRules({ thresholds: thresholds(undefined) });
    expect(rules.map((r) => r.alert)).toEqual([...ALERT_NAMES]);
    for (const rule of rules) expect(rule.annotations.summary.length * rule.annotations.description.length).toBeGreaterThan(0);
  });

  it('takes thresholds from the inventory and --alert-for over every for:', () => {
    const rules = alertRules({ thresholds: thresholds({ disk_full_percent: 85, server_down_after: '2m' }), forOverride: '5s' });
    expect(rules.find((r) => r.alert === 'DiskAlmostFull')?.expr).toMatch(/> 85$/);
    expect(rules.find((r) => r.alert === 'ServerDown')?.expr).toMatch(/> 120$/);
    expect(new Set(rules.map((r) => r.for))).toEqual(new Set(['5s']));
  });

  it('has a unit test per alert that sees it not firing, then firing', () => {
    const options = { thresholds: thresholds(undefined) };
    const file = ruleTests(options, 'cistern.rules.yml');
    expect(file.tests.map((t) => t.alert_rule_test.map((a) => a.alertname))).toEqual(ALERT_NAMES.map((a) => [a, a]));
    for (const test of file.tests) {
      expect(test.alert_rule_test[0]?.exp_alerts).toEqual([]);
      expect(test.alert_rule_test[1]?.exp_alerts.length).toBeGreaterThan(0);
    }
  });

  it('reads durations as Prometheus does', () => {
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('26h')).toBe(93_600);
    expect(durationSeconds('500ms')).toBe(0.5);
  });
});

describe('alertmanager.yml', () => {
  it('routes by severity, alert name and labels, and falls back to the default receiver', () => {
    const { config } = alertmanagerConfig(inventory.monitoring ?? {});
    expect(config.route).toMatchObject({
      receiver: 'phone',
      routes: [
        { receiver: CONTROLLER_NOTIFIES },
        { receiver: 'family', matchers: ['severity="critical"', 'alertname=~"ServerDown"', 'location="home"'] },
      ],
    });
  });

  describe('notifications_from: who notifies what the controller notifies too', () => {
    const receivers = { phone: { type: 'ntfy', url: 'https://ntfy.sh/fleet' } } as const;
    const routes = [{ receiver: 'phone', continue: true }];

    it('controller (the default): the shared alerts go first to a receiver that sends nothing, and stop there', () => {
      for (const monitoring of [{ receivers, routes }, { receivers, routes, notifications_from: 'controller' as const }]) {
        const { config } = alertmanagerConfig(monitoring) as any;
        expect(config.route.routes).toEqual([
          { receiver: CONTROLLER_NOTIFIES, matchers: ['alertname=~"ServerDown|ServiceDown|FailoverHappened"'], continue: false },
          { receiver: 'phone', matchers: [], continue: true },
        ]);
        expect(config.receivers).toEqual([expect.objectContaining({ name: 'phone' }), { name: CONTROLLER_NOTIFIES }]);
        // Still shown, so a down server still holds back its services' alerts.
        expect(config.inhibit_rules[0].source_matchers).toEqual(['alertname="ServerDown"']);
      }
    });

    it('alertmanager and both: routed as the inventory says, no silent receiver', () => {
      for (const from of ['alertmanager', 'both'] as const) {
        const { config } = alertmanagerConfig({ receivers, routes, notifications_from: from }) as any;
        expect(config.route.routes).toEqual([{ receiver: 'phone', matchers: [], continue: true }]);
        expect(config.receivers.map((r: any) => r.name)).toEqual(['phone']);
      }
    });

    it('the README says who notifies them', () => {
      expect(file(generate(), FILES.readme)?.content).toContain('ServerDown, ServiceDown, FailoverHappened: notified by the Cistern controller;');
      const left = generate({ inventory: { ...inventory, monitoring: { ...inventory.monitoring, notifications_from: 'alertmanager' } } });
      expect(file(left, FILES.readme)?.content).toContain('ServerDown, ServiceDown, FailoverHappened: notified by Alertmanager;');
    });

    it('its silent receiver cannot take the name of one of the inventory\'s', () => {
      expect(monitoringFields.receivers.safeParse({ [CONTROLLER_NOTIFIES]: receivers.phone }).success).toBe(false);
    });
  });

  it('reads every secret from a file and writes none', () => {
    const { config, secrets } = alertmanagerConfig({
      receivers: {
        mail: { type: 'email', to: 'me@example.org', from: 'fleet@example.org', smarthost: 'smtp.example.org:587', username: 'fleet', password_file: '/etc/am/smtp' },
        hook: { type: 'webhook', url: 'https://example.org/hook', bearer_token_file: 'hook-token' },
        team: { type: 'slack', webhook_url_file: 'slack-url', channel: '#alerts' },
      },
    });
    const receivers = (config as any).receivers;
    expect(receivers[0].email_configs[0]).toMatchObject({ auth_username: 'fleet', auth_password_file: '/etc/am/smtp', require_tls: true });
    expect(receivers[1].webhook_configs[0].http_config).toEqual({ authorization: { credentials_file: 'hook-token' } });
    expect(receivers[2].slack_configs[0]).toMatchObject({ api_url_file: 'slack-url', channel: '#alerts' });
    expect(secrets.map((s) => s.path)).toEqual(['/etc/am/smtp', 'hook-token', 'slack-url']);
  });

  it('has a receiver that sends nowhere when the inventory names none', () => {
    expect(alertmanagerConfig({}).config).toMatchObject({ route: { receiver: 'none' }, receivers: [{ name: 'none' }] });
  });

  it('gives ntfy its title and message templates in the URL', () => {
    const { config } = alertmanagerConfig({ receivers: { phone: { type: 'ntfy', url: 'https://ntfy.sh/fleet' } } });
    const url = new URL((config as any).receivers[0].webhook_configs[0].url);
    expect(url.origin + url.pathname).toBe('https://ntfy.sh/fleet');
    expect(url.searchParams.get('tpl')).toBe('1');
    expect(url.searchParams.get('t')).toBe('[{{.status}}] {{.commonLabels.alertname}}');
  });
});
