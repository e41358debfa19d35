/**
 * A service's authenticated status probe, as the agent reported it (heartbeat `status`:
 * verdict, detail, checkedAt, version): drawn for the services page and a server's page. The
 * detail and version come from the app through the agent, so, like everything else, they go in
 * as text only. The detail sits in a <details> element, so a tap shows it on a phone where a
 * tooltip never appears; a verdict other than healthy is drawn open, so its detail (a refused
 * key, say) is visible without a tap.
 */

import { h, serverLink, time } from './dom.js';

const VERDICTS = new Set(['healthy', 'starting', 'unhealthy', 'misconfigured']);

const NO_STATUS = 'The agent reported no status probe result: it has no key for this service, or the probe has not run since the service (re)started.';

/** One status, or a quiet hint when there is none (no key: not an error). */
export function statusView(status) {
  if (!status || typeof status !== 'object') return h('span', { class: 'muted no-status', title: NO_STATUS }, 'no status');
  const verdict = typeof status.verdict === 'string' ? status.verdict : 'unknown';
  const known = VERDICTS.has(verdict) ? verdict : 'unknown';
  const version = typeof status.version === 'string' && status.version !== '' ? status.version : null;
  const detail = typeof status.detail === 'string' ? status.detail : '';
  const checked = typeof status.checkedAt === 'number' ? `checked ${time(status.checkedAt)}` : '';
  return h('details', { class: `status verdict-${known}`, 'data-verdict': known, open: known !== 'healthy' },
    h('summary', { title: detail || undefined },
      h('span', { class: `badge verdict-${known}` }, verdict),
      version ? h('span', { class: 'version' }, version) : null),
    h('small', { class: 'status-detail' }, detail, detail && checked ? ' · ' : '', checked));
}

/**
 * The services page's cell: each server running the service, with its status. One element, so
 * the phone layout (a cell is a label and one value) keeps all servers in the value's column.
 */
export function statusCell(servers, statuses) {
  const byServer = statuses && typeof statuses === 'object' ? statuses : {};
  if (servers.length === 0) return '-';
  return h('div', { class: 'status-list' }, servers.map((server) =>
    h('div', { class: 'status-pair', 'data-server': server }, serverLink(server), ' ', statusView(Object.hasOwn(byServer, server) ? byServer[server] : null))));
}
