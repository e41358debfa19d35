import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RICHLY_COMMENTED, generateInventory } from '../testing/fixtures.js';
import { patchYaml } from './patch.js';
import { changeWindows, entries } from './window.js';

const noDocument = () => {
  throw new Error('the whole Document was built');
};

describe('entries', () => {
  it('cuts a block map into entries, comments above an entry belonging to it', () => {
    const text = 'a: 1\n# about b\nb:\n  c: 2\n\n"quoted key": x\n';
    expect(entries(text, 0, text.length)).toEqual([
      { key: 'a', start: 0, keyStart: 0, end: 5 },
      { key: 'b', start: 5, keyStart: 15, end: 26 },
      { key: 'quoted key', start: 26, keyStart: 26, end: text.length },
    ]);
  });

  it('refuses what it cannot read with certainty', () => {
    for (const text of ['- a\n- b\n', 'a: &x 1\nb: *x\n', '---\na: 1\n', '? complex\n: key\n', '[a, b]: 1\n', '!tag a: 1\n']) {
      expect(entries(text, 0, text.length), text).toBeUndefined();
    }
  });
});

describe('changeWindows', () => {
  it('holds only the changed server of a commented file', () => {
    const data = parse(RICHLY_COMMENTED);
    const next = structuredClone(data);
    next.servers.rivers.location = 'basement';
    const windows = changeWindows(RICHLY_COMMENTED, data, next);
    expect(windows?.map((w) => w.text)).toEqual(['  rivers:\n    hostname: 192.168.1.11\n    role: secondary # trailing\n    location: attic\n    # a comment at the end of rivers\n\n']);
  });

  it('holds two windows for two servers far apart', () => {
    const text = generateInventory({ servers: 50 });
    const data = parse(text);
    const next = structuredClone(data);
    next.servers['media-3'].location = 'x';
    next.servers['media-40'].location = 'y';
    const windows = changeWindows(text, data, next) ?? [];
    expect(windows.map((w) => Object.keys(w.before))).toEqual([['media-3'], ['media-40']]);
    expect(windows[0]?.text.startsWith('  # server 3\n  media-3:\n')).toBe(true);
  });

  it('includes the last entry for an addition and a neighbour for a removal', () => {
    const text = generateInventory({ servers: 5 });
    const data = parse(text);
    const next = structuredClone(data);
    delete next.servers['media-2'];
    next.servers['media-9'] = { hostname: '10.0.9.9' };
    const windows = changeWindows(text, data, next) ?? [];
    expect(windows.map((w) => [Object.keys(w.before), Object.keys(w.after)])).toEqual([
      [['media-1', 'media-2'], ['media-1']],
      [['media-4'], ['media-4', 'media-9']],
    ]);
  });
});

describe('patchYaml with windows', () => {
  it('edits one server of a 2,000-server file without building its Document', () => {
    const text = generateInventory({ servers: 2_000 });
    const data = parse(text);
    const next = structuredClone(data);
    next.servers['media-1234'].location = 'moved';
    next.servers['media-1234'].status = { health: 'healthy' };
    const out = patchYaml(text, next, { current: data, document: noDocument });
    expect(parse(out)).toEqual(next);
    const before = text.split('\n');
    const after = out.split('\n');
    expect(after.length - before.length).toBe(2);
    expect(after.filter((line, i) => line !== before[i]).length).toBeLessThanOrEqual(before.length - after.indexOf('    location: moved'));
  });

  it('adds and removes servers without building the Document', () => {
    const text = generateInventory({ servers: 100 });
    const data = parse(text);
    const next = structuredClone(data);
    next.servers.extra = { hostname: '10.0.99.99' };
    delete next.servers['media-50'];
    expect(parse(patchYaml(text, next, { current: data, document: noDocument }))).toEqual(next);
  });
});
