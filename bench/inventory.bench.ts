/**
 * Inventory load + full validation, and a one-field edit + save (lock, re-read, patch,
 * re-validate, atomic write with fsync) on generated fleets of 100, 1,000 and 10,000 servers.
 * Goals (2-core machine): 1,000 servers load and validate under 300 ms; a one-field save of
 * that file under 500 ms.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { editInventory, loadInventory } from '../src/inventory/store.js';
import { generateInventory } from '../src/testing/fixtures.js';
import type { BenchCase, BenchSuite } from './harness.js';

const SIZES = [100, 1_000, 10_000];
let dir = '';

export const inventorySuite: BenchSuite = {
  name: 'inventory',
  description: 'load + validate, and one-field edit + save, of generated inventories',
  setup() {
    dir = mkdtempSync(join(tmpdir(), 'cistern-bench-'));
    for (const size of SIZES) writeFileSync(join(dir, `fleet-${size}.yaml`), generateInventory({ servers: size }));
  },
  teardown() {
    rmSync(dir, { recursive: true, force: true });
  },
  cases() {
    const cases: BenchCase[] = [];
    for (const size of SIZES) {
      const file = join(dir, `fleet-${size}.yaml`);
      const iterations = size >= 10_000 ? 5 : 20;
      const time = size >= 10_000 ? 0 : 1_000;
      cases.push({
        name: `load+validate ${size}`,
        iterations, time,
        async fn() {
          const analysis = await loadInventory(file);
          if (!analysis.ok) throw new Error(`generated inventory of ${size} servers is invalid`);
        },
      });
      let flip = 0;
      cases.push({
        name: `edit+save ${size}`,
        iterations, time,
        async fn() {
          const location = `room-${flip++ % 2}`;
          const result = await editInventory(file, (data) => {
            ((data.servers as Record<string, Record<string, unknown>>)[`media-${Math.floor(size / 2)}`] as Record<string, unknown>).location = location;
          });
          if (!result.changed) throw new Error('the edit changed nothing');
        },
      });
    }
    return cases;
  },
  goals: [
    { case: 'load+validate 1000', metric: 'p99', maxMs: 300 },
    { case: 'edit+save 1000', metric: 'p99', maxMs: 500 },
  ],
};
