import { afterEach, describe, expect, it } from 'vitest';
import { intelN100, nasTwoDisks, ryzenNvidia } from '../../agent/fixtures/pcs.js';
import { analyze } from '../../inventory/analyze.js';
import { heartbeatSchema } from '../../protocol/messages.js';
import { testController, type TestController } from '../../testing/controller.js';

const INVENTORY = `
servers:
  eden: { hostname: eden.lan, location: living-room }
  ocean: { hostname: ocean.lan, location: attic }
  rivers: { hostname: rivers.lan, location: shed }
services:
  jellyfin: { primary: eden }
  sonarr: { replicas: 1 }
`;

const open: TestController[] = [];
afterEach(async () => { for (const c of open.splice(0)) await c.close(); });

async function fleet() {
  const clock = { now: Date.parse('2026-03-01T12:00:00Z') };
  const c = await testController({ clock: () => clock.now, inventory: analyze(INVENTORY, 'inventory.yaml').inventory, health: { intervalMs: 1_000, ttlMs: 3_000 } });
  open.push(c);
  const admin = { authorization: `Bearer ${c.adminToken}` };
  const ids: Record<string, string> = {};
  for (const [name, facts] of [['eden', intelN100], ['ocean', ryzenNvidia], ['rivers', nasTwoDisks]] as const) {
    const { token } = (await c.app.inject({ method: 'POST', url: '/v1/tokens', headers: admin, payload: { uses: 1 } })).json();
    const res = await c.app.inject({ method: 'POST', url: '/v1/register', payload: { token, hostname: `${name}.lan`, name, version: '0.1.0', ageRecipient: `age1${'q'.repeat(58)}`, facts } });
    ids[name] = res.json().agentId;
  }
  let seq = 0;
  const beat = (...names: string[]) => { for (const n of names) c.core.heartbeat(ids[n] as string, { type: 'heartbeat', seq: seq++, sentAt: clock.now, services: {} }); };
  beat('eden', 'ocean', 'rivers');
  c.core.tick();
  const api = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) => c.app.inject({ method, url, headers: admin, ...(payload !== undefined && { payload }) });
  return { c, clock, beat, api };
}

describe('the service manager', () => {
  it('plans, applies and shows placements, hands out leases, and moves a service on order', async () => {
    const { c, api } = await fleet();
    const planned = (await api('GET', '/v1/services/plan')).json();
    expect(planned.moves.map((m: { service: string; role: string }) => `${m.service} ${m.role}`).sort()).toEqual(['jellyfin primary', 'sonarr primary', 'sonarr replica']);
    expect((await api('GET', '/v1/services')).json().services.every((s: { primary: unknown }) => s.primary === null)).toBe(true);

    expect((await api('POST', '/v1/services/apply')).statusCode).toBe(200);
    const shown = (await api('GET', '/v1/services')).json().services as Array<{ name: string; primary: string; replicas: string[]; epoch: number; singleWriter: boolean; reasons: Array<{ reason: string }> }>;
    const jellyfin = shown.find((s) => s.name === 'jellyfin');
    const sonarr = shown.find((s) => s.name === 'sonarr');
    expect(jellyfin).toMatchObject({ primary: 'eden', epoch: 1 });
    expect(jellyfin?.reasons[0]).toMatchObject({ server: 'eden', role: 'primary', reason: expect.stringMatching(/^pinned, hardware transcoding \(intel-quicksync\).*score \d/) });
    expect(sonarr).toMatchObject({ singleWriter: true, epoch: 1, replicas: [expect.any(String)] });
    expect(sonarr?.replicas).not.toContain(sonarr?.primary);
    expect(c.core.leaseSource?.(sonarr?.primary as string)).toMatchObject({ sonarr: 1 });
    expect(c.core.leaseSource?.(sonarr?.replicas[0] as string)).not.toHaveProperty('sonarr');
    expect((await api('GET', '/v1/services/plan')).json().moves).toEqual([]);

    const moved = await api('POST', '/v1/services/jellyfin/move', { to: 'ocean' });
    expect(moved.statusCode).toBe(200);
    expect((await api('GET', '/v1/services')).json().services.find((s: { name: string }) => s.name === 'jellyfin')).toMatchObject({ primary: 'ocean', epoch: 2 });
    // The order stays: applying again does not move it back to the inventory's pin.
    await api('POST', '/v1/services/apply');
    expect(c.services.state().services.jellyfin).toMatchObject({ primary: 'ocean', pinnedPrimary: 'ocean' });

    expect((await api('POST', '/v1/services/jellyfin/move', { to: 'nowhere' })).json().error.code).toBe('E_SERVER_NOT_FOUND');
    expect((await api('POST', '/v1/services/plex/move', { to: 'eden' })).json().error.code).toBe('E_NOT_FOUND');
  });

  it('fails over on order and by itself when the primary\'s server is gone past the grace period, growing the epoch', async () => {
    const { c, clock, beat, api } = await fleet();
    await api('POST', '/v1/services/apply');
    const before = c.services.state().services.sonarr;
    const [first, second] = [before?.primary as string, before?.replicas[0] as string];

    const manual = await api('POST', '/v1/services/sonarr/failover', {});
    expect(manual.json()).toMatchObject({ service: 'sonarr', from: first, to: second, cause: 'manual', epoch: 2 });
    expect(c.services.state().services.sonarr).toMatchObject({ primary: second, replicas: [first], epoch: 2 });

    // `second` goes silent; the others keep beating. Unreachable after the 3 s TTL, failed over 1 s later.
    const others = ['eden', 'ocean', 'rivers'].filter((n) => n !== second);
    for (let t = 0; t < 8; t++) {
      clock.now += 500;
      beat(...others);
      c.core.tick();
      await c.services.tick();
    }
    const failover = c.core.events.list({ limit: 100 }).filter((e) => e.kind === 'failover').at(-1);
    expect(failover?.data).toMatchObject({ service: 'sonarr', from: second, to: first, cause: 'server-unreachable', epoch: 3 });
    expect(failover?.data.afterMs).toBeGreaterThanOrEqual(1_000);
    expect(c.services.state().services.sonarr).toMatchObject({ primary: first, replicas: [second], epoch: 3 });
    expect(c.core.leaseSource?.(second)).not.toHaveProperty('sonarr');
    const alerts = (await api('GET', '/v1/alerts')).json().alerts;
    expect(alerts).toEqual([expect.objectContaining({ name: 'ServerDown', server: second })]);

    expect((await api('POST', '/v1/services/sonarr/failover', { to: first })).json().error.message).toContain('already runs on');
  });

  it('shows what each agent\'s status probe last said, from heartbeats, as the wire protocol carries it', async () => {
    const { c, api } = await fleet();
    await api('POST', '/v1/services/apply');
    const primary = c.services.state().services.sonarr?.primary as string;
    const agentId = c.core.servers().find((s) => s.name === primary)?.agentId as string;
    const status = { verdict: 'misconfigured', detail: 'sonarr refused the agent\'s key or credential [HTTP 401]', checkedAt: 1_700_000_000_000 };
    const beat = heartbeatSchema.parse({ type: 'heartbeat', seq: 99, sentAt: 0, services: { sonarr: { state: 'healthy', detail: 'ok', status } } });
    c.core.heartbeat(agentId, beat);
    const sonarr = (await api('GET', '/v1/services')).json().services.find((s: { name: string }) => s.name === 'sonarr');
    expect(sonarr).toMatchObject({ health: { [primary]: 'healthy' }, status: { [primary]: status } });
    expect(Object.keys(sonarr.status)).toEqual([primary]);
  });
});
