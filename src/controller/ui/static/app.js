/* global document, window, fetch, EventSource, location, setTimeout, clearTimeout, setInterval, console */
/**
 * The Cistern dashboard: one page, routed by the URL's hash, drawing what the controller's /v1
 * API answers. Names, facts and events come from agents, so every value reaches the page as
 * text (textContent, setAttribute): never as HTML. The CSP's Trusted Types would refuse an HTML
 * string anyway.
 */

import { ago, badge, bytes, dl, h, pct, section, serverLink, table, text, time } from './dom.js';
import { statusCell, statusView } from './service-status.js';

const state = {
  csrf: '',
  servers: [],
  boxes: [],
  events: [],
  route: { page: 'overview' },
  live: false,
  message: '',
};
const MAX_EVENTS = 300;
const main = document.getElementById('main');

// ---- API ----------------------------------------------------------------------------------

class SignedOut extends Error {}

async function api(path, options = {}) {
  const headers = { accept: 'application/json', ...(options.body !== undefined && { 'content-type': 'application/json' }), ...(options.method && options.method !== 'GET' && { 'x-cistern-csrf': state.csrf }) };
  const res = await fetch(path, { method: options.method ?? 'GET', headers, credentials: 'same-origin', ...(options.body !== undefined && { body: JSON.stringify(options.body) }) });
  if (res.status === 401) throw new SignedOut();
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const error = new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
    error.status = res.status;
    throw error;
  }
  return body;
}

function signedOut() {
  location.assign('/ui/login');
}

async function refreshFleet() {
  const [servers, boxes] = await Promise.all([api('/v1/servers'), api('/v1/discovered')]);
  state.servers = Array.isArray(servers?.servers) ? servers.servers : [];
  state.boxes = Array.isArray(boxes?.boxes) ? boxes.boxes : [];
}

// ---- events -------------------------------------------------------------------------------

function describeEvent(e) {
  const d = e.data && typeof e.data === 'object' ? e.data : {};
  switch (e.kind) {
    case 'health': return `${text(d.from)} → ${text(d.to)}${d.reason ? ` (${d.reason})` : ''}`;
    case 'registered': return d.via === 'approval' ? 'joined after approval' : `joined${d.token ? ` with token ${d.token}` : ''}`;
    case 'discovered': return `${text(d.name)} at ${text(d.address)} is waiting for approval`;
    default: return Object.entries(d).filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
      .map(([k, v]) => `${k}=${/At$/.test(k) && typeof v === 'number' ? new Date(v).toISOString() : v}`).join(' ');
  }
}

function eventItem(e) {
  return h('li', { class: 'event', 'data-kind': e.kind, 'data-id': e.id },
    h('time', { datetime: new Date(e.at).toISOString() }, time(e.at)),
    h('span', { class: 'kind' }, text(e.kind)),
    e.server ? serverLink(e.server) : h('span', { class: 'muted' }, 'fleet'),
    h('span', { class: 'detail' }, describeEvent(e)));
}

/** Newest first; filled (again on each event) by redrawLiveLists. */
function eventList(limit, server) {
  return h('ol', { class: 'events', 'data-live': String(limit), ...(server && { 'data-server': server }) });
}

function pick(events, limit, server) {
  const chosen = server ? events.filter((e) => e.server === server) : events;
  return chosen.slice(-limit).reverse();
}

function redrawLiveLists() {
  for (const list of document.querySelectorAll('ol[data-live]')) {
    const chosen = pick(state.events, Number(list.getAttribute('data-live')), list.getAttribute('data-server'));
    list.replaceChildren(...(chosen.length ? chosen.map(eventItem) : [h('li', { class: 'muted' }, 'No events yet.')]));
  }
}

let refreshTimer;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { void refreshFleet().then(redrawData, handleError); }, 150);
}

function connectStream() {
  const source = new EventSource('/ui/events/stream');
  const live = document.getElementById('live');
  source.addEventListener('open', () => { state.live = true; live.textContent = 'live'; live.classList.add('on'); });
  source.addEventListener('error', () => {
    state.live = false;
    live.textContent = 'reconnecting';
    live.classList.remove('on');
    // A closed stream after a sign-out elsewhere: the next data call finds out and redirects.
    refreshSoon();
  });
  source.addEventListener('fleet', (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    if (state.events.some((e) => e.id === event.id)) return;
    state.events.push(event);
    if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
    redrawLiveLists();
    refreshSoon();
  });
}

// ---- pages --------------------------------------------------------------------------------

function pendingSection() {
  if (state.boxes.length === 0) return null;
  const rows = state.boxes.map((box) => ({
    attrs: { 'data-box': box.name },
    cells: [
      box.name, text(box.address), h('code', {}, fingerprint(box.fingerprint)), text(box.hardware), text(box.profile),
      box.approvable
        ? h('button', { type: 'button', class: 'approve', 'data-name': box.name, onclick: (ev) => approve(ev.currentTarget, box) }, 'Approve')
        : h('span', { class: 'muted' }, 'seen on the network only'),
    ],
  }));
  return section(`Waiting for approval (${state.boxes.length})`,
    h('p', { class: 'muted' }, 'Compare each key with the one the box printed before approving it.'),
    table(['Name', 'Address', 'Key', 'Hardware', 'Profile', ''], rows, { id: 'pending' }));
}

function fingerprint(fp) {
  const hex = String(fp ?? '').replace(/^sha256:/, '').slice(0, 16);
  return hex.match(/.{1,4}/g)?.join('-') ?? '-';
}

async function approve(button, box) {
  button.disabled = true;
  button.textContent = 'Approving…';
  try {
    // By the whole key fingerprint, not the name a box chose: 64 hex digits match no name (at
    // most 63 characters), so a box cannot pose as another to be approved in its place.
    const result = await api('/v1/discovered/approve', { method: 'POST', body: { names: [box.fingerprint.replace(/^sha256:/, '')] } });
    state.message = `Approved ${(result?.approved ?? []).map((a) => a.name).join(', ') || box.name}.`;
    await refreshFleet();
  } catch (error) {
    if (error instanceof SignedOut) return signedOut();
    state.message = `Could not approve ${box.name}: ${error.message}`;
  }
  render();
}

function serversSection() {
  if (state.servers.length === 0) return section('Servers', h('p', { class: 'muted' }, 'No servers yet: approve a waiting box, or add one with cistern token create.'));
  const rows = state.servers.map((s) => ({
    attrs: { 'data-server': s.name },
    cells: [
      serverLink(s.name), badge(s.health, s.flapping ? '(flapping)' : ''), text(s.profile),
      pct(s.load?.cpuPercent), pct(s.load?.memoryPercent), pct(s.load?.diskPercent),
      Array.isArray(s.services) && s.services.length ? s.services.join(', ') : '-', ago(s.lastSeen),
    ],
  }));
  return section(`Servers (${state.servers.length})`, table(['Name', 'Health', 'Profile', 'CPU', 'Mem', 'Disk', 'Services', 'Last seen'], rows, { id: 'servers' }));
}

function overview() {
  return [
    pendingSection(),
    serversSection(),
    section('Live events', eventList(12)),
  ];
}

function factsView(facts) {
  if (!facts || typeof facts !== 'object') return h('p', { class: 'muted' }, 'No facts reported yet.');
  const f = facts;
  const cpu = f.cpu && typeof f.cpu === 'object' ? f.cpu : {};
  const os = f.os && typeof f.os === 'object' ? f.os : {};
  const list = (v) => (Array.isArray(v) ? v : []);
  const gpus = list(f.gpus).map((g) => `${text(g?.model)}${g?.renderNode ? ` (${g.renderNode})` : ''}`).join('; ');
  const tx = f.transcoding && typeof f.transcoding === 'object' ? ['quickSync', 'vaapi', 'nvenc'].filter((k) => f.transcoding[k] === true).join(', ') : '';
  const out = [dl([
    ['Hostname', text(f.hostname)],
    ['Model', text(f.deviceModel)],
    ['Architecture', text(f.architecture)],
    ['CPU', `${text(cpu.model)}${cpu.cores ? ` · ${cpu.cores} cores` : ''}${cpu.threads ? ` / ${cpu.threads} threads` : ''}`],
    ['Memory', bytes(f.memory?.totalBytes, true)],
    ['GPU', gpus || '-'],
    ['Transcoding', tx || 'none'],
    ['OS', `${text(os.name)}${os.version ? ` ${os.version}` : ''}${os.nixosVersion ? ` (NixOS ${os.nixosVersion})` : ''}`],
    ['Interfaces', list(f.interfaces).map((i) => `${text(i?.name)}: ${list(i?.addresses).join(', ') || '-'}`).join('; ') || '-'],
    ['Collected', text(f.collectedAt)],
  ])];
  const disks = list(f.disks);
  if (disks.length) {
    out.push(h('h3', {}, 'Disks'), table(['Device', 'Mount', 'Type', 'Size', 'Free', 'Kind'], disks.map((d) => ({
      cells: [text(d?.device), text(d?.mount), text(d?.fsType), bytes(d?.sizeBytes), bytes(d?.freeBytes), d?.rotational === true ? 'HDD' : d?.rotational === false ? 'SSD' : '-'],
    }))));
  }
  if (list(f.gaps).length) out.push(h('p', { class: 'warn' }, `Incomplete facts: ${list(f.gaps).join('; ')}`));
  return out;
}

async function serverPage(name) {
  let detail;
  try {
    detail = await api(`/v1/servers/${encodeURIComponent(name)}`);
  } catch (error) {
    if (error.status === 404) return [h('h1', {}, name), h('p', { class: 'warn' }, 'No server has this name.')];
    throw error;
  }
  const recent = await api(`/v1/events?server=${encodeURIComponent(name)}&limit=100`).catch(() => ({ events: [] }));
  for (const e of recent?.events ?? []) if (!state.events.some((x) => x.id === e.id)) state.events.push(e);
  state.events.sort((a, b) => a.id - b.id);
  const s = detail.server;
  const probes = s.probes && typeof s.probes === 'object' ? s.probes : {};
  const services = [...new Set([...(Array.isArray(s.services) ? s.services : []), ...Object.keys(probes)])];
  return [
    h('h1', {}, s.name, ' ', badge(s.health, s.flapping ? '(flapping)' : '')),
    section('Summary', dl([
      ['Address', text(s.address)],
      ['Connected', s.connected ? 'yes' : 'no'],
      ['Last seen', ago(s.lastSeen)],
      ['Profile', text(s.profile)],
      ['Why this profile', text(s.profileReason)],
      ['Storage-heavy', s.storageHeavy ? 'yes' : 'no'],
      ['Load', s.load ? `load ${s.load.load1} · CPU ${pct(s.load.cpuPercent)} · memory ${pct(s.load.memoryPercent)} · disk ${pct(s.load.diskPercent)}` : '-'],
    ])),
    section('Services', services.length
      ? table(['Service', 'Probe', 'Detail', 'Status'], services.map((name) => ({
        attrs: { 'data-service': name },
        cells: [name, badge(probes[name]?.state ?? 'unknown'), text(probes[name]?.detail), statusView(probes[name]?.status)],
      })), { id: 'server-services' })
      : h('p', { class: 'muted' }, 'No services declared or probed.')),
    section('Facts', factsView(detail.facts)),
    section('Events', eventList(50, s.name)),
  ];
}

async function servicesPage() {
  let body;
  try {
    body = await api('/v1/services');
  } catch (error) {
    if (error.status === 404) return [h('h1', {}, 'Services'), h('p', { class: 'muted', id: 'no-placement' }, 'No placement yet.')];
    throw error;
  }
  const services = Array.isArray(body?.services) ? body.services : [];
  if (services.length === 0) return [h('h1', {}, 'Services'), h('p', { class: 'muted', id: 'no-placement' }, 'No placement yet.')];
  const rows = services.map((svc) => {
    const health = svc.health && typeof svc.health === 'object' ? svc.health : {};
    const reasons = Array.isArray(svc.reasons) ? svc.reasons : [];
    return {
      attrs: { 'data-service': svc.name },
      cells: [
        text(svc.name),
        svc.primary ? serverLink(svc.primary) : h('span', { class: 'warn' }, 'none'),
        Array.isArray(svc.replicas) && svc.replicas.length ? svc.replicas.map((r, i) => [i ? ', ' : '', serverLink(r)]) : '-',
        Object.keys(health).length ? h('div', {}, Object.entries(health).map(([server, st]) => h('span', { class: 'pair' }, `${server} `, badge(st)))) : '-',
        statusCell(Object.keys(health), svc.status),
        [
          svc.unplaceable ? h('p', { class: 'warn' }, `Unplaceable: ${svc.unplaceable}`) : null,
          reasons.length ? h('ul', { class: 'reasons' }, reasons.map((r) => h('li', {}, `${text(r?.server)} (${text(r?.role)}, score ${text(r?.score)}): ${text(r?.reason)}`))) : null,
        ],
        text(svc.epoch),
      ],
    };
  });
  return [h('h1', {}, 'Services'), table(['Service', 'Primary', 'Replicas', 'Health', 'Status', 'Placement', 'Epoch'], rows, { id: 'services' })];
}

function eventsPage() {
  return [h('h1', {}, 'Events'), eventList(MAX_EVENTS)];
}

// ---- routing and drawing -------------------------------------------------------------------

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  if (hash.startsWith('servers/')) return { page: 'server', name: decodeURIComponent(hash.slice('servers/'.length)) };
  if (hash === 'services') return { page: 'services' };
  if (hash === 'events') return { page: 'events' };
  return { page: 'overview' };
}

function notice() {
  if (!state.message) return null;
  return h('p', { class: 'notice', role: 'status' }, state.message, ' ', h('button', { type: 'button', class: 'quiet', onclick: () => { state.message = ''; render(); } }, 'Dismiss'));
}

let drawing = 0;
async function render() {
  const ticket = ++drawing;
  const route = (state.route = parseRoute());
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('data-nav') === (route.page === 'server' ? 'overview' : route.page));
  try {
    const content = route.page === 'server' ? await serverPage(route.name)
      : route.page === 'services' ? await servicesPage()
        : route.page === 'events' ? eventsPage()
          : overview();
    if (ticket !== drawing) return;
    main.replaceChildren(...[notice(), ...[content].flat(Infinity)].filter(Boolean));
    redrawLiveLists();
  } catch (error) {
    handleError(error);
  }
}

/** Fresh fleet data: only the pages that show it are drawn again. */
function redrawData() {
  if (state.route.page === 'overview' || state.route.page === 'server') void render();
}

function handleError(error) {
  if (error instanceof SignedOut) return signedOut();
  console.error(error);
  main.replaceChildren(h('p', { class: 'warn' }, `The controller did not answer: ${error.message}`));
}

async function start() {
  try {
    const session = await api('/ui/api/session');
    state.csrf = session.csrfToken;
    await refreshFleet();
  } catch (error) {
    return handleError(error);
  }
  document.getElementById('logout').addEventListener('click', async () => {
    await fetch('/ui/logout', { method: 'POST', headers: { 'x-cistern-csrf': state.csrf }, credentials: 'same-origin' }).catch(() => {});
    location.assign('/ui/login');
  });
  window.addEventListener('hashchange', () => { state.message = ''; void render(); });
  connectStream();
  // Load and health between events.
  setInterval(() => { void refreshFleet().then(redrawData, handleError); }, 5000);
  await render();
}

void start();
