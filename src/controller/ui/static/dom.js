/* global document, Node */
/**
 * Building the dashboard's DOM from values that come from agents: every value goes in as text
 * (a text node or an attribute), never as HTML.
 */

/** An element with attributes and children; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const HEALTH = new Set(['healthy', 'suspect', 'degraded', 'unreachable', 'down', 'unknown', 'unhealthy', 'starting', 'misconfigured', 'failed']);
export function badge(health, extra) {
  const known = HEALTH.has(health) ? health : 'unknown';
  return h('span', { class: `badge health-${known}`, 'data-health': known }, String(health ?? 'unknown'), extra ? ` ${extra}` : '');
}

export const pct = (n) => (typeof n === 'number' && Number.isFinite(n) ? `${Math.round(n)}%` : '-');
export const text = (v) => (v === null || v === undefined || v === '' ? '-' : String(v));
export const serverLink = (name) => h('a', { href: `#/servers/${encodeURIComponent(name)}` }, name);

/** Memory in binary units (GiB), disks in decimal ones (GB), as the CLI and vendors print them. */
export function bytes(n, binary = false) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return '-';
  const step = binary ? 1024 : 1000;
  const units = binary ? ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] : ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= step && i < units.length - 1) { n /= step; i++; }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

export function ago(iso) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '-';
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : s < 86400 ? `${Math.floor(s / 3600)}h ago` : `${Math.floor(s / 86400)}d ago`;
}

export function time(ms) {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '-' : d.toLocaleTimeString([], { hour12: false });
}

/**
 * A table that becomes a list of cards on a narrow screen: each cell carries its column's name
 * in data-label, which the stylesheet shows in front of the value.
 */
export function table(columns, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'cards', ...attrs },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((row) => h('tr', row.attrs ?? {}, row.cells.map((cell, i) => h('td', { 'data-label': columns[i] }, cell)))))));
}

export function section(title, ...children) {
  return h('section', {}, h('h2', {}, title), ...children);
}

export function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}
