import { machine } from 'node:os';
import { describe, expect, it } from 'vitest';
import { collectFacts, factsSchema, gatherSystemInfo } from './facts.js';
import { fakeTree, PI_TREE } from './fixtures/linux-tree.js';
import { SI_CALLS, siInWorker, type SiRunner } from './si-worker.js';

const failing: SiRunner = (call) => Promise.reject(new Error(`${call} is broken`));
const hanging: SiRunner = () => new Promise(() => undefined);

describe('collectFacts', () => {
  it('collects facts on this machine that match the schema', async () => {
    const facts = await collectFacts();
    expect(factsSchema.parse(facts)).toEqual(facts);
    expect(facts.architecture).toBe(machine());
    expect(facts.os.name).not.toBe('');
    expect(facts.interfaces.map((i) => i.name)).not.toContain('lo');
    expect(facts.gaps).toEqual([]);
  }, 30_000);

  it('reads Linux paths under root and reports every failed systeminformation call as a gap', async () => {
    const facts = await collectFacts({ root: fakeTree(PI_TREE), runner: failing });
    expect(factsSchema.parse(facts)).toEqual(facts);
    expect(facts.deviceModel).toBe('Raspberry Pi 5 Model B Rev 1.0');
    expect(facts.os).toEqual({ name: 'NixOS', id: 'nixos', version: '24.05', nixosVersion: '24.05.20240605.6346da3' });
    expect(facts.transcoding).toEqual({ renderNodes: ['/dev/dri/renderD128', '/dev/dri/renderD129'], quickSync: true, vaapi: true, nvenc: true });
    expect(facts.gpus).toEqual([
      { vendor: 'broadcom', model: 'Broadcom GPU', renderNode: '/dev/dri/renderD128' },
      { vendor: 'intel', model: 'Intel GPU', renderNode: '/dev/dri/renderD129' },
    ]);
    expect(facts.disks.find((d) => d.device === '/dev/sda')).toMatchObject({ rotational: true, sizeBytes: 15628053168 * 512 });
    expect(facts.gaps).toEqual([...SI_CALLS].sort().map((call) => `${call}: ${call} is broken`));
  });

  it('gives up on a call that never answers', async () => {
    const started = Date.now();
    const { results, gaps } = await gatherSystemInfo(hanging, 50);
    expect(results).toEqual({});
    expect(gaps).toHaveLength(SI_CALLS.length);
    expect(gaps[0]).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps the calls that answered when others fail', async () => {
    const runner: SiRunner = (call) => (call === 'mem' ? Promise.resolve({ total: 1024 }) : Promise.reject(new Error('no')));
    const { results, gaps } = await gatherSystemInfo(runner, 1000);
    expect(results).toEqual({ mem: { total: 1024 } });
    expect(gaps).toHaveLength(SI_CALLS.length - 1);
  });

  it('survives a runner that throws instead of rejecting', async () => {
    const runner: SiRunner = () => {
      throw new Error('sync failure');
    };
    const { gaps } = await gatherSystemInfo(runner, 1000);
    expect(gaps).toContain('cpu: sync failure');
  });
});

describe('siInWorker', () => {
  it('runs a systeminformation call in a worker', async () => {
    const mem = (await siInWorker('mem', 20_000)) as { total: number };
    expect(mem.total).toBeGreaterThan(0);
  }, 30_000);

  it('rejects at the deadline', async () => {
    await expect(siInWorker('graphics', 1)).rejects.toThrow('timed out after 1 ms');
  });
});
