/**
 * Two or more `cistern` processes editing one inventory at once lose nothing: writers are
 * serialized by the lock and each re-reads the file under it. A failpoint holds every edit
 * between read and write, so without the lock these edits would overwrite each other.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RICHLY_COMMENTED } from '../src/testing/fixtures.js';
import { tempDir } from '../src/testing/tmp.js';
import { runCistern } from './support/cistern.js';

describe('concurrent edits by separate processes', () => {
  it('keeps every tag four processes add at once, and every comment', async () => {
    const file = join(tempDir(), 'inventory.yaml');
    writeFileSync(file, RICHLY_COMMENTED);
    const workers = 4;
    const edits = 4;
    const env = { CISTERN_FAILPOINT_EDIT_DELAY_MS: '40' };
    const results = await Promise.all(Array.from({ length: workers }, async (_, w) => {
      const codes: (number | null)[] = [];
      for (let i = 0; i < edits; i++) {
        const server = w % 2 === 0 ? 'eden' : 'rivers';
        const run = await runCistern(['inventory', 'tag', server, `w${w}-e${i}`, '--file', file], env);
        if (run.code !== 0) throw new Error(`worker ${w} edit ${i} failed: ${run.stderr}`);
        codes.push(run.code);
      }
      return codes;
    }));
    expect(results.flat()).toHaveLength(workers * edits);
    const text = readFileSync(file, 'utf8');
    const data = parse(text);
    const tags = [...(data.servers.eden.tags ?? []), ...(data.servers.rivers.tags ?? [])];
    for (let w = 0; w < workers; w++) for (let i = 0; i < edits; i++) expect(tags).toContain(`w${w}-e${i}`);
    for (const comment of RICHLY_COMMENTED.split('\n').filter((l) => l.trim().startsWith('#'))) expect(text).toContain(comment);
  });

  it('a different kind of edit at the same time is kept too', async () => {
    const file = join(tempDir(), 'inventory.yaml');
    writeFileSync(file, RICHLY_COMMENTED);
    const env = { CISTERN_FAILPOINT_EDIT_DELAY_MS: '60' };
    const runs = await Promise.all([
      runCistern(['inventory', 'set', 'rivers', 'location=basement', '--file', file], env),
      runCistern(['inventory', 'add', 'ocean', '--hostname', '192.168.1.12', '--file', file], env),
      runCistern(['inventory', 'tag', 'eden', 'kids', '--file', file], env),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const data = parse(readFileSync(file, 'utf8'));
    expect(data.servers.rivers.location).toBe('basement');
    expect(data.servers.ocean.hostname).toBe('192.168.1.12');
    expect(data.servers.eden.tags).toContain('kids');
  });
});
