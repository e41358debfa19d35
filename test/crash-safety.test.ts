/**
 * A crash at any moment leaves the old file or the new one, never a mix: writers are killed
 * with SIGKILL at random points of their write, and the file is checked after each kill.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/inventory/analyze.js';
import { RICHLY_COMMENTED } from '../src/testing/fixtures.js';
import { tempDir } from '../src/testing/tmp.js';
import { ROOT, assertBuilt, spawnCistern } from './support/cistern.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitExit(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('crash safety', () => {
  it('writeFileAtomic killed mid-write leaves a whole old or whole new file', async () => {
    assertBuilt();
    const dir = tempDir();
    const file = join(dir, 'big.txt');
    // Versions are large (4 MB) so that kills land inside the write; each is uniform.
    const version = (n: number) => `${String(n).padStart(8, '0')}\n`.repeat(500_000);
    writeFileSync(file, version(0));
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(join(ROOT, 'dist/util/atomic-write.js'))};
      const n = Number(process.argv[1]);
      const text = String(n).padStart(8, '0') + '\\n';
      const data = text.repeat(500_000);
      process.stdout.write('start\\n');
      await writeFileAtomic(process.argv[2], data);
      process.stdout.write('done');
    `;
    let completed = 0;
    let killedMidWrite = 0;
    const rounds = 16;
    for (let round = 1; round <= rounds; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, String(round), file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const started = new Promise<void>((resolve) => child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('start')) resolve();
      }));
      await Promise.race([started, sleep(5_000)]);
      const tmpBefore = new Set(readdirSync(dir).filter((f) => f.endsWith('.tmp')));
      await sleep(Math.floor(Math.random() * 12));
      child.kill('SIGKILL');
      await waitExit(child);
      if (out.includes('done')) completed++;
      if (readdirSync(dir).some((f) => f.endsWith('.tmp') && !tmpBefore.has(f))) killedMidWrite++;
      const text = readFileSync(file, 'utf8');
      const lines = new Set(text.split('\n').filter(Boolean));
      expect(lines.size, `round ${round}: the file mixes versions`).toBe(1);
      expect(text.length).toBe(9 * 500_000);
    }
    // A leftover temporary file means the kill landed between open and rename.
    expect(killedMidWrite, 'no kill landed inside a write: the test proved nothing').toBeGreaterThan(0);
    expect(completed).toBeLessThan(rounds);
    // Killed writers may leave their temporary file, never a changed inventory.
    expect(readdirSync(dir).filter((f) => !f.endsWith('.tmp'))).toEqual(['big.txt']);
  });

  it('`cistern inventory set` killed at random moments leaves a valid old or new file', async () => {
    const file = join(tempDir(), 'inventory.yaml');
    writeFileSync(file, RICHLY_COMMENTED);
    let previous = 'attic';
    const outcomes = { old: 0, new: 0 };
    const rounds = 16;
    for (let round = 0; round < rounds; round++) {
      const child = spawnCistern(['inventory', 'set', 'rivers', `location=room-${round}`, '--file', file], { CISTERN_FAILPOINT_EDIT_DELAY_MS: '30' });
      // Kill times sweep start-up, the locked read-modify-write and the write itself; the
      // last round runs to the end, so a completed write is among the outcomes.
      if (round < rounds - 1) {
        await sleep(round * 40 + Math.floor(Math.random() * 40));
        child.kill('SIGKILL');
      }
      await waitExit(child);
      const text = readFileSync(file, 'utf8');
      const analysis = analyze(text, file);
      expect(analysis.ok).toBe(true);
      const location = analysis.inventory.servers?.rivers?.location ?? '';
      expect([previous, `room-${round}`]).toContain(location);
      expect(text).toBe(RICHLY_COMMENTED.replace('location: attic', `location: ${location}`));
      outcomes[location === previous ? 'old' : 'new']++;
      previous = location;
    }
    // Kills landed both before and after the write, so both outcomes were checked.
    expect(outcomes.old).toBeGreaterThan(0);
    expect(outcomes.new).toBeGreaterThan(0);
  });
});
