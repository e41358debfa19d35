import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { intelN100 } from '../agent/fixtures/pcs.js';
import { tempDir } from '../testing/tmp.js';
import { silentLogger } from '../util/logger.js';
import { factsSummary, InventorySync } from './inventory-sync.js';

describe('factsSummary', () => {
  it('summarizes well-formed facts', () => {
    expect(factsSummary(intelN100)).toMatchObject({ architecture: intelN100.architecture, gpus: intelN100.gpus.map((g) => g.model), profile: 'intel-quicksync' });
  });

  it('leaves out malformed fields instead of throwing, and keeps the rest', () => {
    const summary = factsSummary({ ...intelN100, gpus: 'none', disks: [null], os: { name: 1 } });
    expect(summary).toMatchObject({ architecture: intelN100.architecture, cpu: intelN100.cpu.model });
    expect(summary).not.toHaveProperty('gpus');
    expect(summary).not.toHaveProperty('disks');
    expect(summary).not.toHaveProperty('os');
  });
});

describe('InventorySync', () => {
  const BASE = '# fleet\nservers:\n  eden:\n    hostname: eden   # the main box\n';

  async function sync(text = BASE) {
    const file = join(tempDir(), 'inventory.yaml');
    writeFileSync(file, text);
    const s = new InventorySync({ file, logger: silentLogger(), debounceMs: 10 });
    await s.start();
    return { s, file };
  }

  it('adds agents that share an OS host name under unique host names, in one write', async () => {
    const { s, file } = await sync();
    s.registered('vm', { hostname: 'vm', address: null, facts: intelN100 });
    s.registered('vm-2', { hostname: 'vm', address: null, facts: intelN100 });
    s.registered('vm', { hostname: 'vm', address: null, facts: intelN100 });
    await s.close();
    const data = parse(readFileSync(file, 'utf8'));
    expect(Object.keys(data.servers)).toEqual(['eden', 'vm', 'vm-2']);
    expect([data.servers.vm.hostname, data.servers['vm-2'].hostname]).toEqual(['vm', 'vm-2']);
    expect(readFileSync(file, 'utf8').startsWith(BASE)).toBe(true);
  });

  it('writes one valid change even when another in the same batch is refused', async () => {
    const { s, file } = await sync(`${BASE}network:\n  subnet: 10.0.0.0/24\n`);
    s.healthChanged('eden', 'healthy', Date.UTC(2026, 0, 1));
    // A name the inventory refuses: the write of this one entry fails on its own.
    s.registered('bad name', { hostname: 'vm', address: null, facts: intelN100 });
    await s.close();
    const data = parse(readFileSync(file, 'utf8'));
    expect(data.servers.eden.status.health).toBe('healthy');
    expect(data.servers['bad name']).toBeUndefined();
  });
});

describe('InventorySync with a file broken by hand', () => {
  it('holds changes back while the file is invalid and writes them after it is fixed', async () => {
    const file = join(tempDir(), 'inventory.yaml');
    const good = '# fleet\nservers:\n  eden:\n    hostname: eden\n    role: primary\n';
    writeFileSync(file, good);
    const s = new InventorySync({ file, logger: silentLogger(), debounceMs: 10 });
    await s.start();
    writeFileSync(file, good.replace('role: primary', 'role: boss'));
    s.registered('ocean', { hostname: 'ocean', address: null, facts: intelN100 });
    await s.flush();
    expect(readFileSync(file, 'utf8')).toContain('role: boss');
    expect(readFileSync(file, 'utf8')).not.toContain('ocean');
    writeFileSync(file, good);
    await s.reload();
    await s.close();
    expect(parse(readFileSync(file, 'utf8')).servers.ocean.hostname).toBe('ocean');
  });
});
