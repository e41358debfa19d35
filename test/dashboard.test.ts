/**
 * The web dashboard end to end: a real controller and agents on loopback (the built CLI), and
 * Debian's Chromium driven by playwright-core, trusting the controller's CA. The browser signs
 * in with the admin token, sees the fleet, approves a waiting box, sees it join and its event
 * arrive on the live stream without a reload, and draws the page at phone size. Screenshots go
 * to test-artifacts/dashboard/. Code run in the page is given as strings: the tests are compiled
 * without the DOM's types.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchTrusting, type LabBrowser } from './support/browser.js';
import { assertBuilt, ROOT } from './support/cistern.js';
import { FleetLab, type Agent, type Controller } from './support/fleet.js';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
/** Every browser wait is bounded by this. */
const WAIT_MS = 10_000;
/** A box whose name is markup: the dashboard must show it as text and run nothing. */
const HOSTILE_NAME = '<img src=x onerror=window.pwned=1>';
/** A status probe's answers, as agents report them: one healthy with the app's version, one whose key was refused. */
const STATUS = {
  healthy: { verdict: 'healthy', detail: 'Jellyfin 10.10.7 answered', checkedAt: Date.UTC(2025, 5, 1, 12), version: '10.10.7' },
  refused: { verdict: 'misconfigured', detail: `refused the agent's key or credential ${HOSTILE_NAME}`, checkedAt: Date.UTC(2025, 5, 1, 12), version: HOSTILE_NAME },
};
/** What GET /v1/servers/shed answers: a server running two services, one status refused, one not reported. */
const SHED = {
  server: {
    name: 'shed', agentId: null, hostname: 'shed', address: '127.0.0.9', profile: 'general', profileReason: 'canned', storageHeavy: false,
    health: 'healthy', flapping: false, lastSeen: null, connected: true, load: null, services: ['jellyfin', 'radarr'],
    probes: { jellyfin: { state: 'healthy', status: STATUS.refused }, radarr: { state: 'healthy' } },
  },
  facts: null,
};
/** What GET /v1/services answers once placement runs. */
const SERVICES = {
  services: [
    {
      name: 'jellyfin', primary: 'den', replicas: ['attic'], epoch: 3, health: { den: 'healthy', attic: 'suspect' },
      status: { den: STATUS.healthy, attic: STATUS.refused },
      reasons: [{ server: 'den', role: 'primary', reason: 'has Quick Sync', score: 90 }, { server: 'attic', role: 'replica', reason: HOSTILE_NAME, score: 40 }],
      unplaceable: null,
    },
    { name: 'sonarr', primary: null, replicas: [], epoch: 1, health: {}, reasons: [], unplaceable: 'no server has 4 GiB free' },
    { name: 'radarr', primary: 'attic', replicas: [], epoch: 1, health: { attic: 'healthy' }, status: {}, reasons: [], unplaceable: null },
  ],
};

describe('the web dashboard in Chromium', () => {
  let lab: FleetLab;
  let controller: Controller;
  let browser: LabBrowser;
  let context: BrowserContext;
  let page: Page;
  let attic: Agent;
  const problems: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    lab = new FleetLab();
    controller = await lab.startController();
    const token = await lab.createToken(controller);
    const den = lab.startAgent({ token, name: 'den' });
    attic = lab.startAgent({ name: 'attic', args: ['--discoverable', '--controller', controller.url] });
    const hostile = lab.startAgent({ name: HOSTILE_NAME, args: ['--discoverable', '--controller', controller.url] });
    [browser] = await Promise.all([
      launchTrusting(join(controller.dataDir, 'pki', 'ca.pem')),
      lab.waitRegistered(den),
      attic.daemon.waitForOutput(/^waiting for approval as "attic"/m, { timeoutMs: 15_000 }),
      hostile.daemon.waitForOutput(/^waiting for approval as /m, { timeoutMs: 15_000 }),
    ]);
    // No ignoreHTTPSErrors: the certificate is checked against the CA the browser was given.
    context = await browser.browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()} (${message.location().url})`); });
  }, 45_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.cleanup();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('signs in with the admin token into a session cookie that is HttpOnly, Secure and SameSite=Strict', async () => {
    await page.goto(`${controller.url}/ui/`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await shot('01-sign-in');
    await page.fill('#token', 'csa_00000000.wrong');
    await page.click('button[type=submit]');
    await page.getByText('That is not the admin token.').waitFor();
    await page.fill('#token', controller.adminToken as string);
    await page.click('button[type=submit]');
    await page.waitForURL(`${controller.url}/ui/`);

    const cookies = await context.cookies(controller.url);
    expect(cookies.map((c) => c.name)).toEqual(['cistern_session']);
    expect(cookies[0]).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/', domain: '127.0.0.1' });
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('shows the servers and the boxes waiting for approval, names as text', async () => {
    const den = page.locator('#servers tr[data-server="den"]');
    await den.waitFor();
    await expect.poll(() => den.locator('[data-health]').getAttribute('data-health'), { timeout: WAIT_MS }).toBe('healthy');
    expect(await den.locator('td[data-label="Profile"]').textContent()).not.toBe('-');
    await page.locator('#pending tr[data-box="attic"] button.approve').waitFor();
    const hostile = page.locator('#pending tr', { hasText: HOSTILE_NAME });
    await hostile.waitFor();
    expect(await hostile.locator('td[data-label="Name"]').textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('#pending img').count()).toBe(0);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    await page.locator('#live.on').waitFor();
    await shot('02-overview');
  });

  it('approves a box: it joins, and its event arrives on the live stream without a reload', async () => {
    // A reload would lose this mark.
    await page.evaluate("window.mark = 'same page'");
    await page.click('#pending tr[data-box="attic"] button.approve');
    await page.locator('ol.events li[data-kind="registered"]', { hasText: 'attic' }).waitFor();
    expect(await lab.waitRegistered(attic)).toBe('attic');
    const row = page.locator('#servers tr[data-server="attic"]');
    await row.waitFor();
    await expect.poll(() => row.locator('[data-health]').getAttribute('data-health'), { timeout: WAIT_MS }).toBe('healthy');
    await page.locator('ol.events li[data-kind="health"]', { hasText: 'attic' }).first().waitFor();
    expect(await page.locator('#pending tr[data-box="attic"]').count()).toBe(0);
    expect(await page.evaluate('window.mark')).toBe('same page');
    await shot('03-approved');
  });

  it('shows a server\'s page: facts, profile reason, services and events', async () => {
    await page.click('#servers tr[data-server="attic"] a');
    await page.waitForURL(/#\/servers\/attic$/);
    await page.locator('h1', { hasText: 'attic' }).waitFor();
    await page.locator('dt', { hasText: 'Why this profile' }).waitFor();
    await page.locator('dt', { hasText: 'Architecture' }).waitFor();
    await page.locator('ol.events li[data-kind="registered"]').waitFor();
    await shot('04-server');

    // The agents here run no services: a canned server page's answer with the probes of two.
    // (Not the real answer amended: route.fetch would go through Node, which does not trust the CA.)
    await page.route('**/v1/servers/shed', (route) => route.fulfill({ json: SHED }));
    await page.evaluate("location.hash = '#/servers/shed'");
    const jellyfin = page.locator('#server-services tr[data-service="jellyfin"]');
    await jellyfin.waitFor();
    const refused = jellyfin.locator('td[data-label="Status"] details[data-verdict="misconfigured"]');
    expect(await refused.locator('.version').textContent()).toBe(HOSTILE_NAME);
    expect(await refused.locator('.status-detail').isVisible()).toBe(true);
    expect(await page.locator('#server-services tr[data-service="radarr"] td[data-label="Status"]').textContent()).toBe('no status');
    expect(await page.locator('#server-services img').count()).toBe(0);
    await shot('04-server-services');
    await page.unroute('**/v1/servers/shed');
  });

  it('shows the services page: placement when the controller has one, and "no placement yet" when it answers 404', async () => {
    await page.click('nav a[data-nav="services"]');
    await page.locator('h1', { hasText: 'Services' }).waitFor();
    await page.locator('#services, #no-placement').first().waitFor();
    await shot('05-services');

    // The page drawn from an answer of GET /v1/services' shape, with markup where agents' names go.
    await page.route('**/v1/services', (route) => route.fulfill({ json: SERVICES }));
    await page.click('nav a[data-nav="overview"]');
    await page.click('nav a[data-nav="services"]');
    const jellyfin = page.locator('#services tr[data-service="jellyfin"]');
    await jellyfin.waitFor();
    expect(await jellyfin.locator('td[data-label="Primary"]').textContent()).toBe('den');
    expect(await jellyfin.locator('td[data-label="Replicas"]').textContent()).toBe('attic');
    expect(await jellyfin.locator('[data-health]').evaluateAll((els) => els.map((e) => e.getAttribute('data-health')))).toEqual(['healthy', 'suspect']);
    expect(await jellyfin.locator('td[data-label="Placement"]').textContent()).toContain(`attic (replica, score 40): ${HOSTILE_NAME}`);
    expect(await page.locator('#services tr[data-service="sonarr"] td[data-label="Placement"]').textContent()).toContain('Unplaceable: no server has 4 GiB free');
    // Each server's status probe: verdict and version; a refused key drawn open, its detail in view.
    const status = jellyfin.locator('td[data-label="Status"]');
    expect(await status.locator('[data-verdict]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')))).toEqual(['healthy', 'misconfigured']);
    expect(await status.locator('[data-server="den"] summary').textContent()).toBe('healthy10.10.7');
    expect(await status.locator('[data-server="den"] summary').getAttribute('title')).toBe(STATUS.healthy.detail);
    expect(await status.locator('[data-server="den"] .status-detail').isVisible()).toBe(false);
    const refused = status.locator('[data-server="attic"] details[data-verdict="misconfigured"]');
    expect(await refused.getAttribute('open')).toBe('');
    expect(await refused.locator('.version').textContent()).toBe(HOSTILE_NAME);
    expect(await refused.locator('.status-detail').isVisible()).toBe(true);
    expect(await refused.locator('.status-detail').textContent()).toContain(STATUS.refused.detail);
    // No status reported (no key): a quiet hint, not an error.
    expect(await page.locator('#services tr[data-service="sonarr"] td[data-label="Status"]').textContent()).toBe('-');
    expect(await page.locator('#services tr[data-service="radarr"] td[data-label="Status"] .no-status').textContent()).toBe('no status');
    await status.locator('[data-server="den"] summary').click();
    expect(await status.locator('[data-server="den"] .status-detail').textContent()).toMatch(/^Jellyfin 10\.10\.7 answered · checked /);
    expect(await page.locator('#services img, #services script').count()).toBe(0);
    await shot('05-services-placed');
    await page.unroute('**/v1/services');
  });

  it('fits a phone screen: no sideways scrolling, tables drawn as cards', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('nav a[data-nav="overview"]');
    await page.locator('#servers tr[data-server="attic"]').waitFor();
    const width = await page.evaluate<{ scroll: number; view: number }>('({ scroll: document.documentElement.scrollWidth, view: window.innerWidth })');
    expect(width.scroll).toBeLessThanOrEqual(width.view);
    expect(await page.locator('#servers thead').boundingBox().then((b) => b?.height ?? 0)).toBeLessThanOrEqual(1);
    expect(await page.evaluate('getComputedStyle(document.querySelector("#servers tbody tr")).display')).toBe('block');
    await shot('06-phone');
    await page.goto(`${controller.url}/ui/#/servers/den`);
    await page.locator('dt', { hasText: 'Architecture' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await shot('07-phone-server');
    // The services page's status column on a phone: still no sideways scrolling.
    await page.route('**/v1/services', (route) => route.fulfill({ json: SERVICES }));
    await page.click('nav a[data-nav="services"]');
    await page.locator('#services tr[data-service="jellyfin"] details[data-verdict="misconfigured"]').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    // Every server's status in the card's value column, none wrapped under its label.
    const lefts = await page.locator('#services tr[data-service="jellyfin"] td[data-label="Status"] .status-pair').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().left)));
    expect(lefts).toHaveLength(2);
    expect(lefts[1]).toBe(lefts[0]);
    await shot('08-phone-services');
    await page.unroute('**/v1/services');
  });

  it('signs out: the cookie is gone and the pages send back to sign-in', async () => {
    await page.click('#logout');
    await page.waitForURL(`${controller.url}/ui/login`);
    expect(await context.cookies(controller.url)).toEqual([]);
    await page.goto(`${controller.url}/ui/`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    // Chromium reports failed loads by itself: the wrong token's 401, and /v1/services' 404 until placement exists.
    const expected = [/status of 401 .*\/ui\/login\)$/, /status of 404 .*\/v1\/services\)$/];
    expect(problems.filter((p) => !expected.some((e) => e.test(p)))).toEqual([]);
  });
});
