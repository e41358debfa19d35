/**
 * The files Grafana needs to show Cistern's fleet: a Prometheus datasource with a fixed UID, a
 * dashboard provider, and the dashboards. Pure: the caller writes the files.
 */
import { stringify } from 'yaml';
import { CisternError } from '../../errors.js';
import { cisternDashboards } from './dashboards.js';
import { DASHBOARD_TAG, DATASOURCE_UID } from './panels.js';

export interface GrafanaOptions {
  /** Where Grafana reaches Prometheus, e.g. `http://localhost:9090`. */
  prometheusUrl: string;
  /** Absolute folder on the Grafana host holding the `dashboards/` files; default `/var/lib/grafana/dashboards/cistern`. */
  dashboardsPath?: string;
  /** Prometheus's scrape interval, which Grafana needs for `$__rate_interval`; default `15s`. */
  scrapeInterval?: string;
}

/** A file to write, its path relative to Grafana's configuration root (the parent of `provisioning/`). */
export interface GrafanaFile {
  path: string;
  content: string;
}

export const DEFAULT_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/cistern';

const HEADER = '# Written by `cistern monitoring generate`; changes here are overwritten.\n';

/**
 * `provisioning/datasources/cistern.yaml`, `provisioning/dashboards/cistern.yaml` and
 * `dashboards/<name>.json`, in that order; the same options always give the same bytes.
 */
export function grafanaProvisioning(options: GrafanaOptions): GrafanaFile[] {
  const prometheusUrl = checkUrl(options.prometheusUrl);
  const dashboardsPath = options.dashboardsPath ?? DEFAULT_DASHBOARDS_PATH;
  if (!dashboardsPath.startsWith('/')) {
    throw new CisternError('E_USAGE', `Grafana dashboards path "${dashboardsPath}" is not absolute`, {
      hint: 'Grafana reads provisioned dashboards from an absolute folder on its own host',
    });
  }
  const datasources = {
    apiVersion: 1,
    datasources: [{
      name: 'Cistern Prometheus', uid: DATASOURCE_UID, type: 'prometheus', access: 'proxy', url: prometheusUrl,
      isDefault: false, editable: false,
      jsonData: { timeInterval: options.scrapeInterval ?? '15s', httpMethod: 'POST' },
    }],
  };
  const providers = {
    apiVersion: 1,
    providers: [{
      name: 'cistern', orgId: 1, folder: 'Cistern', folderUid: DASHBOARD_TAG, type: 'file',
      disableDeletion: true, allowUiUpdates: false, updateIntervalSeconds: 60,
      options: { path: dashboardsPath, foldersFromFilesStructure: false },
    }],
  };
  return [
    { path: 'provisioning/datasources/cistern.yaml', content: HEADER + stringify(datasources) },
    { path: 'provisioning/dashboards/cistern.yaml', content: HEADER + stringify(providers) },
    ...cisternDashboards().map(({ file, dashboard }) => ({
      path: `dashboards/${file}`, content: `${JSON.stringify(dashboard, null, 2)}\n`,
    })),
  ];
}

/** The URL as Grafana should get it; refuses credentials, which belong in Grafana's secure settings. */
function checkUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CisternError('E_USAGE', 'the Prometheus URL is not a URL', { hint: 'give one like http://localhost:9090' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CisternError('E_USAGE', `the Prometheus URL must be http or https, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new CisternError('E_USAGE', 'the Prometheus URL must not carry a user name or password', {
      hint: "set basic auth on the datasource in Grafana; provisioned files are not the place for secrets",
    });
  }
  return raw;
}
