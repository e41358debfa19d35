import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CisternError } from '../../errors.js';
import { dashboardExpressions, dashboardMetricNames } from './dashboards.js';
import { isExportedMetric } from './exported.js';
import { DATASOURCE_UID, grafanaProvisioning, type GrafanaFile } from './index.js';
import { metricNamesInPromQL } from './promql.js';

const files = grafanaProvisioning({ prometheusUrl: 'http://prometheus.lan:9090' });
const byPath = new Map(files.map((file) => [file.path, file.content]));

function dashboardFile(path: string): any {
  const content = byPath.get(path);
  if (content === undefined) throw new Error(`no ${path}`);
  return JSON.parse(content);
}

const dashboards = {
  fleet: dashboardFile('dashboards/fleet-overview.json'),
  server: dashboardFile('dashboards/server.json'),
  service: dashboardFile('dashboards/service.json'),
};

/** Every panel, rows and the panels inside collapsed rows included. */
function panelsOf(dashboard: any): any[] {
  return (dashboard.panels as any[]).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

function titles(dashboard: any, type?: string): string[] {
  return panelsOf(dashboard).filter((panel) => type === undefined || panel.type === type).map((panel) => panel.title);
}

describe('grafanaProvisioning', () => {
  it('writes a datasource, a dashboard provider and three dashboards', () => {
    expect(files.map((file) => file.path)).toEqual([
      'provisioning/datasources/cistern.yaml',
      'provisioning/dashboards/cistern.yaml',
      'dashboards/fleet-overview.json',
      'dashboards/server.json',
      'dashboards/service.json',
    ]);
  });

  it('provisions the Prometheus datasource under the UID every dashboard uses', () => {
    const config = parse(byPath.get('provisioning/datasources/cistern.yaml') ?? '');
    expect(config).toEqual({
      apiVersion: 1,
      datasources: [{
        name: 'Cistern Prometheus', uid: DATASOURCE_UID, type: 'prometheus', access: 'proxy', url: 'http://prometheus.lan:9090',
        isDefault: false, editable: false, jsonData: { timeInterval: '15s', httpMethod: 'POST' },
      }],
    });
  });

  it('points the dashboard provider at the dashboards folder', () => {
    const config = parse(byPath.get('provisioning/dashboards/cistern.yaml') ?? '');
    expect(config.providers).toHaveLength(1);
    expect(config.providers[0]).toMatchObject({
      type: 'file', folder: 'Cistern', options: { path: '/var/lib/grafana/dashboards/cistern' }, allowUiUpdates: false,
    });
    const custom = grafanaProvisioning({ prometheusUrl: 'http://p:9090', dashboardsPath: '/srv/grafana/cistern', scrapeInterval: '30s' });
    const contentOf = (path: string) => custom.find((file: GrafanaFile) => file.path === path)?.content ?? '';
    expect(parse(contentOf('provisioning/dashboards/cistern.yaml')).providers[0].options.path).toBe('/srv/grafana/cistern');
    expect(parse(contentOf('provisioning/datasources/cistern.yaml')).datasources[0].jsonData.timeInterval).toBe('30s');
  });

  it('gives the same bytes on every run', () => {
    expect(grafanaProvisioning({ prometheusUrl: 'http://prometheus.lan:9090' })).toEqual(files);
  });

  it.each([
    ['not a url', /not a URL/],
    ['ftp://prometheus:21', /http or https/],
    ['http://admin:hunter2@prometheus:9090', /user name or password/],
  ])('refuses the Prometheus URL %s with E_USAGE and without echoing secrets', (url, message) => {
    const error = (() => {
      try {
        grafanaProvisioning({ prometheusUrl: url });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CisternError);
    expect((error as CisternError).code).toBe('E_USAGE');
    expect((error as CisternError).message).toMatch(message);
    expect((error as CisternError).message).not.toContain('hunter2');
  });

  it('refuses a relative dashboards path', () => {
    expect(() => grafanaProvisioning({ prometheusUrl: 'http://p:9090', dashboardsPath: 'dashboards' }))
      .toThrow(/not absolute/);
  });
});

describe('the dashboards', () => {
  it('have stable UIDs, titles and the cistern tag', () => {
    expect([dashboards.fleet, dashboards.server, dashboards.service].map((d) => [d.uid, d.title, d.tags])).toEqual([
      ['cistern-fleet-overview', 'Cistern / Fleet overview', ['cistern']],
      ['cistern-server', 'Cistern / Server', ['cistern']],
      ['cistern-service', 'Cistern / Service', ['cistern']],
    ]);
  });

  it('fleet overview: servers up, resources per server, the service health matrix, failovers, pending boxes', () => {
    expect(titles(dashboards.fleet, 'row')).toEqual(['Fleet', 'Resources', 'Services']);
    expect(titles(dashboards.fleet, 'stat')).toEqual(
      ['Servers up', 'Servers down', 'Servers by health', 'Pending boxes', 'Unplaceable services'],
    );
    expect(titles(dashboards.fleet, 'timeseries')).toEqual(['CPU busy', 'Memory used', 'Fullest disk', 'Failovers', 'Restarts']);
    const matrix = panelsOf(dashboards.fleet).find((panel) => panel.title === 'Service health matrix');
    expect(matrix.type).toBe('table');
    expect(matrix.targets[0].expr).toContain('cistern_agent_service_up');
    expect(matrix.transformations[0]).toMatchObject({ id: 'groupingToMatrix', options: { rowField: 'server', columnField: 'service' } });
    expect(titles(dashboards.fleet, 'state-timeline')).toEqual(['Service health over time']);
    expect(dashboards.fleet.templating.list ?? []).toEqual([]);
  });

  it('server drill-down: a $server variable and its resources, services and heartbeats', () => {
    expect(dashboards.server.templating.list.map((v: any) => [v.name, v.type, v.definition])).toEqual([
      ['server', 'query', 'label_values(up, server)'],
    ]);
    expect(titles(dashboards.server)).toEqual(expect.arrayContaining([
      'CPU', 'Memory', 'Disk used', 'Temperature', 'Load', 'Network', 'Services on $server', 'Service health', 'Restarts',
      'Heartbeat age', 'Heartbeat round trip',
    ]));
    for (const panel of panelsOf(dashboards.server).filter((p) => p.type !== 'row')) {
      for (const target of panel.targets) expect(target.expr, panel.title).toContain('server="$server"');
    }
  });

  it('service view: a $service variable, probe latency quantiles, restarts, lease epochs, failovers', () => {
    expect(dashboards.service.templating.list.map((v: any) => [v.name, v.type, v.definition])).toEqual([
      ['service', 'query', 'label_values(cistern_agent_service_up, service)'],
    ]);
    expect(titles(dashboards.service)).toEqual(expect.arrayContaining([
      'Probe latency', 'Probe latency p90 by server', 'Restarts by server', 'Lease epoch by server', 'Failovers by cause',
    ]));
    const latency = panelsOf(dashboards.service).find((panel) => panel.title === 'Probe latency');
    expect(latency.targets.map((t: any) => t.legendFormat)).toEqual(['p50', 'p90', 'p99']);
    expect(latency.targets[0].expr).toMatch(/^histogram_quantile\(0\.5, .*cistern_agent_service_probe_duration_seconds_bucket/);
    for (const panel of panelsOf(dashboards.service).filter((p) => p.type !== 'row')) {
      for (const target of panel.targets) expect(target.expr, panel.title).toContain('service="$service"');
    }
  });

  it.each(Object.entries(dashboards))('%s: every panel and query uses the provisioned datasource', (_name, dashboard) => {
    for (const panel of panelsOf(dashboard).filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) expect(target.datasource, panel.title).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
    }
    for (const variable of dashboard.templating.list ?? []) expect(variable.datasource.uid).toBe(DATASOURCE_UID);
  });

  it.each(Object.entries(dashboards))('%s: panels have unique ids, unique refIds and fit the 24-column grid', (_name, dashboard) => {
    const panels = panelsOf(dashboard);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const panel of panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      const refIds = (panel.targets ?? []).map((t: any) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      expect(panel.description ?? (panel.type === 'row' ? 'row' : ''), panel.title).not.toBe('');
    }
  });
});

describe('metric names in the dashboards', () => {
  it('are all exported by the agent, the controller or a named exporter', () => {
    const unknown = Object.entries(dashboardMetricNames())
      .flatMap(([uid, names]) => names.filter((name) => !isExportedMetric(name)).map((name) => `${uid}: ${name}`));
    expect(unknown).toEqual([]);
  });

  it('are read from every query in the written files, not only the built objects', () => {
    const fromFiles = new Set(Object.values(dashboards).flatMap((dashboard) => [
      ...panelsOf(dashboard).flatMap((panel) => (panel.targets ?? []).map((t: any) => t.expr as string)),
      ...(dashboard.templating.list ?? []).map((v: any) => v.definition as string),
    ]).flatMap(metricNamesInPromQL));
    expect([...fromFiles].sort()).toEqual([...new Set(Object.values(dashboardMetricNames()).flat())].sort());
    expect(fromFiles.size).toBeGreaterThan(20);
  });

  it('include each dashboard\'s variable queries', () => {
    expect(dashboardExpressions(dashboards.service)).toContain('label_values(cistern_agent_service_up, service)');
  });
});
