import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeElement, FakeText, installFakeDom } from '../../testing/fake-dom.js';

/** static/service-status.js, the browser module under test (plain JS: typed here by hand). */
interface StatusModule {
  statusView(status: unknown): FakeElement;
  statusCell(servers: string[], statuses: unknown): FakeElement | string;
}

// Markup in every place an app's answer reaches the page.
const HOSTILE = '<img src=x onerror=window.pwned=1>';
const HOSTILE_VERSION = '"><script>alert(1)</script>';
/** The only elements the status builders make: anything else is data parsed as markup. */
const TAGS = new Set(['span', 'details', 'summary', 'small', 'div', 'a']);

let mod: StatusModule;
let uninstall: () => void;
beforeAll(async () => {
  uninstall = installFakeDom();
  // By URL, not a literal specifier: the module is browser JS that tsc does not type.
  mod = (await import(new URL('./static/service-status.js', import.meta.url).href)) as StatusModule;
});
afterAll(() => uninstall());

function texts(el: FakeElement): string[] {
  return el.children.flatMap((c) => (c instanceof FakeText ? [c.data] : c instanceof FakeElement ? texts(c) : []));
}

describe('statusView', () => {
  it('shows the verdict and the version, with the detail and the time it was checked behind a tap', () => {
    const el = mod.statusView({ verdict: 'healthy', detail: 'Sonarr 4.0.15.2941 answered', checkedAt: Date.UTC(2025, 0, 1, 12), version: '4.0.15.2941' });
    expect(el.tagName).toBe('details');
    expect(el.getAttribute('data-verdict')).toBe('healthy');
    expect(el.getAttribute('open')).toBeNull();
    const [summary, detail] = el.children as FakeElement[];
    expect(summary?.textContent).toBe('healthy4.0.15.2941');
    expect(summary?.find('class', 'badge verdict-healthy')).toHaveLength(1);
    expect(summary?.find('class', 'version')[0]?.textContent).toBe('4.0.15.2941');
    expect(summary?.getAttribute('title')).toBe('Sonarr 4.0.15.2941 answered');
    expect(detail?.textContent).toMatch(/^Sonarr 4\.0\.15\.2941 answered · checked \S+$/);
  });

  it('draws a verdict other than healthy open, so a refused key shows without a tap', () => {
    const el = mod.statusView({ verdict: 'misconfigured', detail: 'refused the agent\'s key or credential (HTTP 401)', checkedAt: 0 });
    expect(el.getAttribute('data-verdict')).toBe('misconfigured');
    expect(el.getAttribute('class')).toBe('status verdict-misconfigured');
    expect(el.getAttribute('open')).toBe('');
    expect(el.find('class', 'version')).toEqual([]);
    expect(el.textContent).toContain('refused the agent\'s key or credential (HTTP 401)');
    expect(mod.statusView({ verdict: 'unhealthy', detail: 'HTTP 500', checkedAt: 0 }).getAttribute('open')).toBe('');
  });

  it('puts hostile detail, version and verdict in as text and attribute values, never as markup', () => {
    const el = mod.statusView({ verdict: HOSTILE, detail: HOSTILE, checkedAt: 0, version: HOSTILE_VERSION });
    expect(el.all().every((e) => TAGS.has(e.tagName))).toBe(true);
    // An unknown verdict is shown as given but styled as unknown: no class is made from data.
    expect(el.getAttribute('data-verdict')).toBe('unknown');
    expect(el.all().map((e) => e.getAttribute('class')).filter(Boolean)).toEqual(['status verdict-unknown', 'badge verdict-unknown', 'version', 'status-detail']);
    expect(texts(el)).toEqual([HOSTILE, HOSTILE_VERSION, HOSTILE, ' · ', expect.stringMatching(/^checked /)]);
    expect(el.find('title', HOSTILE)).toHaveLength(1);
    expect(el.all().flatMap((e) => e.listeners)).toEqual([]);
  });

  it('shows a quiet hint, not an error, when no status was reported, and survives a malformed one', () => {
    for (const none of [undefined, null, 'healthy', 7]) {
      const el = mod.statusView(none);
      expect(el.tagName).toBe('span');
      expect(el.getAttribute('class')).toBe('muted no-status');
      expect(el.textContent).toBe('no status');
      expect(el.getAttribute('title')).toMatch(/no key for this service/);
    }
    const odd = mod.statusView({ verdict: 42, detail: { html: HOSTILE }, version: 7, checkedAt: 'soon' });
    expect(odd.getAttribute('data-verdict')).toBe('unknown');
    expect(odd.textContent).toBe('unknown');
  });
});

describe('statusCell', () => {
  it('lists each server running the service with its status, or the quiet hint', () => {
    const statuses = {
      den: { verdict: 'healthy', detail: 'ok', checkedAt: 0, version: '10.10.7' },
      attic: { verdict: 'misconfigured', detail: HOSTILE, checkedAt: 0 },
    };
    const list = mod.statusCell(['den', 'attic', 'shed', '__proto__'], statuses) as FakeElement;
    expect(list.getAttribute('class')).toBe('status-list');
    const cell = list.children as FakeElement[];
    expect(cell.map((e) => e.getAttribute('data-server'))).toEqual(['den', 'attic', 'shed', '__proto__']);
    expect(cell.map((e) => e.find('data-verdict')[0]?.getAttribute('data-verdict') ?? null)).toEqual(['healthy', 'misconfigured', null, null]);
    expect(cell[0]?.find('href')[0]?.getAttribute('href')).toBe('#/servers/den');
    expect(cell[1]?.textContent).toContain(HOSTILE);
    expect(cell[2]?.find('class', 'muted no-status')).toHaveLength(1);
    expect(cell[3]?.find('class', 'muted no-status')).toHaveLength(1);
    expect(cell.flatMap((e) => e.all()).every((e) => TAGS.has(e.tagName))).toBe(true);
  });

  it('draws a dash for a service on no server, and hints on each server when an older controller sends no status map', () => {
    expect(mod.statusCell([], undefined)).toBe('-');
    const cell = mod.statusCell(['den'], undefined) as FakeElement;
    expect(cell.find('class', 'muted no-status')).toHaveLength(1);
  });
});
