import { describe, expect, it } from 'vitest';
import { intelN100 } from '../agent/fixtures/pcs.js';
import { factsSummary } from './inventory-sync.js';

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
