import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCisternError } from '../errors.js';
import { ED25519, RSA, fakeEd25519 } from '../testing/ssh-keys.js';
import { BEGIN_MARKER, END_MARKER, managedKeys, updateAuthorizedKeys, type ManagedKey } from './authorized-keys.js';

const alice: ManagedKey = { name: 'alice', key: ED25519 };
const bob: ManagedKey = { name: 'bob', key: RSA };
const FOREIGN = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOREIGNFOREIGNFOREIGNFOREIGNFOREIGNFOREIGNFO root@elsewhere';

function refusal(text: string): string {
  try {
    updateAuthorizedKeys(text, [alice]);
  } catch (error) {
    if (isCisternError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  throw new Error('not refused');
}

describe('updateAuthorizedKeys', () => {
  it('appends a marked block to a file without one, keeping its lines', () => {
    const current = `# my keys\n${FOREIGN}\n`;
    const update = updateAuthorizedKeys(current, [alice, bob]);
    expect(update.text).toBe(`${current}${BEGIN_MARKER}\n# key: alice\n${ED25519}\n# key: bob\n${RSA}\n${END_MARKER}\n`);
    expect(update.changed).toBe(true);
    expect(update.added.map((k) => k.name)).toEqual(['alice', 'bob']);
    expect(update.removed).toEqual([]);
  });

  it('writes a block into an empty (or missing) file', () => {
    expect(updateAuthorizedKeys('', [alice]).text).toBe(`${BEGIN_MARKER}\n# key: alice\n${ED25519}\n${END_MARKER}\n`);
  });

  it('replaces the block in place, leaving the lines around it', () => {
    const current = `${FOREIGN}\n${BEGIN_MARKER}\n# key: alice\n${ED25519}\n${END_MARKER}\n# after\n`;
    const update = updateAuthorizedKeys(current, [bob]);
    expect(update.text).toBe(`${FOREIGN}\n${BEGIN_MARKER}\n# key: bob\n${RSA}\n${END_MARKER}\n# after\n`);
    expect(update.added.map((k) => k.name)).toEqual(['bob']);
    expect(update.removed).toEqual([{ name: 'alice', material: ED25519.split(' ').slice(0, 2).join(' ') }]);
  });

  it('keeps a file without a final newline without one', () => {
    const once = updateAuthorizedKeys(FOREIGN, [alice]).text;
    expect(once).toBe(`${FOREIGN}\n${BEGIN_MARKER}\n# key: alice\n${ED25519}\n${END_MARKER}`);
    expect(updateAuthorizedKeys(once, [alice, bob]).text).toBe(`${FOREIGN}\n${BEGIN_MARKER}\n# key: alice\n${ED25519}\n# key: bob\n${RSA}\n${END_MARKER}`);
  });

  it('writes the block with CRLF in a CRLF file', () => {
    const current = `${FOREIGN}\r\n# other\r\n`;
    const text = updateAuthorizedKeys(current, [alice]).text;
    expect(text).toBe(`${current}${BEGIN_MARKER}\r\n# key: alice\r\n${ED25519}\r\n${END_MARKER}\r\n`);
    expect(updateAuthorizedKeys(text, [alice]).changed).toBe(false);
  });

  it('changes nothing when the keys are already there, and never adds an empty block', () => {
    const text = updateAuthorizedKeys(FOREIGN + '\n', [alice]).text;
    expect(updateAuthorizedKeys(text, [alice])).toMatchObject({ text, changed: false, added: [], removed: [] });
    expect(updateAuthorizedKeys(`${FOREIGN}\n`, [])).toMatchObject({ text: `${FOREIGN}\n`, changed: false });
    expect(updateAuthorizedKeys(text, []).text).toBe(`${FOREIGN}\n${BEGIN_MARKER}\n${END_MARKER}\n`);
  });

  it('counts a key whose comment changed as neither added nor removed', () => {
    const text = updateAuthorizedKeys('', [alice]).text;
    const update = updateAuthorizedKeys(text, [{ name: 'alice', key: ED25519.replace('test-ed25519-256', 'new comment') }]);
    expect(update.changed).toBe(true);
    expect(update).toMatchObject({ added: [], removed: [] });
  });

  it('refuses two BEGIN markers and unbalanced markers, naming the lines', () => {
    expect(refusal(`${BEGIN_MARKER}\n${END_MARKER}\n${BEGIN_MARKER}\n${END_MARKER}\n`)).toBe('E_AUTHORIZED_KEYS: authorized_keys has 2 BEGIN markers of the cistern block (lines 1, 3)');
    expect(refusal(`${FOREIGN}\n${BEGIN_MARKER}\n${ED25519}\n`)).toBe('E_AUTHORIZED_KEYS: authorized_keys has unbalanced markers of the cistern block: BEGIN at line 2');
    expect(refusal(`${END_MARKER}\n${FOREIGN}\n`)).toBe('E_AUTHORIZED_KEYS: authorized_keys has unbalanced markers of the cistern block: END at line 1');
    expect(refusal(`${END_MARKER}\n${BEGIN_MARKER}\n`)).toContain('BEGIN at line 2, END at line 1');
    expect(refusal(`${BEGIN_MARKER}\n${END_MARKER}\n${END_MARKER}\n`)).toContain('END at line 2, END at line 3');
  });

  it('recognizes markers whatever follows the fixed words (an edited dash, CR, spaces)', () => {
    const text = `#  BEGIN cistern managed keys -- do not edit\r\n${RSA}\n  # END cistern managed keys  \n`;
    expect(managedKeys(text)).toEqual([{ name: undefined, material: RSA.split(' ').slice(0, 2).join(' ') }]);
    expect(updateAuthorizedKeys(text, [alice]).text).toBe(`${BEGIN_MARKER}\r\n# key: alice\r\n${ED25519}\r\n${END_MARKER}\n`);
  });

  it('refuses a key that spans lines: that would inject lines into the file', () => {
    expect(() => updateAuthorizedKeys('', [{ name: 'x', key: `${ED25519}\n${RSA}` }])).toThrow(/more than one line/);
  });
});

describe('updateAuthorizedKeys, properties', () => {
  const isMarker = (line: string) => /^#\s*(BEGIN|END) cistern managed keys\b/.test(line.trim());
  // Foreign lines: anything without a line break that is not a marker, some keys, some CRs.
  const foreignLine = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', ' ', '#', '\t', '\r', 'é', 'B', '=', '"'), maxLength: 12 }),
    fc.constantFrom(FOREIGN, `from="10.0.0.0/8" ${RSA}`, '# BEGIN something else', '# cistern', ''),
    fc.string({ maxLength: 20 }).map((s) => s.replace(/\n/g, '')),
  ).filter((line) => !isMarker(line));
  const eol = fc.constantFrom('\n', '\r\n');
  const file = fc.tuple(fc.array(foreignLine, { maxLength: 6 }), eol, fc.boolean()).map(([lines, end, finalNewline]) =>
    lines.map((l, i) => l + (i < lines.length - 1 || finalNewline ? end : '')).join(''));
  const keys = fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 4 })
    .map((seeds) => seeds.map((seed) => ({ name: `k${seed}`, key: fakeEd25519(seed) })));

  it('keeps every byte of a file without a block: the new text starts with the old', () => {
    fc.assert(fc.property(file, keys, (text, wanted) => {
      const out = updateAuthorizedKeys(text, wanted).text;
      expect(out.startsWith(text)).toBe(true);
      // ...and what follows is a line break when the file lacked one, then only the block.
      const rest = out.slice(text.length).replace(/^\r?\n/, '');
      if (wanted.length > 0) expect(rest.startsWith(BEGIN_MARKER)).toBe(true);
    }), { numRuns: 500 });
  });

  it('keeps every byte around an existing block', () => {
    fc.assert(fc.property(file, file, keys, keys, eol, (before, after, old, wanted, end) => {
      const head = before === '' || before.endsWith('\n') ? before : `${before}${end}`;
      const oldBlock = updateAuthorizedKeys('', old).text || `${BEGIN_MARKER}\n${END_MARKER}\n`;
      const text = head + oldBlock + after;
      const out = updateAuthorizedKeys(text, wanted).text;
      expect(out.startsWith(head)).toBe(true);
      expect(out.endsWith(after)).toBe(true);
      expect(managedKeys(out).map((k) => k.name)).toEqual(wanted.map((k) => k.name));
    }), { numRuns: 500 });
  });

  it('is idempotent: applying twice equals applying once', () => {
    fc.assert(fc.property(file, keys, keys, (text, first, second) => {
      const once = updateAuthorizedKeys(text, first).text;
      expect(updateAuthorizedKeys(once, first)).toMatchObject({ text: once, changed: false });
      const changed = updateAuthorizedKeys(once, second).text;
      expect(updateAuthorizedKeys(changed, second).text).toBe(changed);
    }), { numRuns: 500 });
  });
});
