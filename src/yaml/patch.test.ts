import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { RICHLY_COMMENTED } from '../testing/fixtures.js';
import { patchYaml } from './patch.js';

type Data = Record<string, any>;

// Every test runs twice: patching windows around the changes, and patching the whole Document.
let windows = true;

function edit(text: string, change: (data: Data) => void): string {
  const doc = parseDocument(text);
  const data = doc.toJS() as Data;
  change(data);
  return patchYaml(text, data, { document: () => doc, windows });
}

/** Asserts that `after` is `before` with exactly `oldText` (first match after `anchor`) replaced. */
function expectOnlyReplaced(before: string, after: string, anchor: string, oldText: string, newText: string): void {
  const at = before.indexOf(oldText, before.indexOf(anchor));
  expect(at).toBeGreaterThanOrEqual(0);
  expect(after).toBe(before.slice(0, at) + newText + before.slice(at + oldText.length));
}

describe.each([['windows', true], ['whole document', false]])('patchYaml (%s) on a richly commented file', (_mode, useWindows) => {
  beforeEach(() => { windows = useWindows; });

  it('leaves the file byte for byte unchanged when nothing changes', () => {
    expect(edit(RICHLY_COMMENTED, () => {})).toBe(RICHLY_COMMENTED);
  });

  it('changes only the bytes of a plain scalar', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.servers.rivers.location = 'basement'; });
    expectOnlyReplaced(RICHLY_COMMENTED, out, 'rivers:', 'attic', 'basement');
  });

  it('keeps the quoting style of the value it replaces', () => {
    const single = edit(RICHLY_COMMENTED, (d) => { d.servers.eden.mac_address = 'aa:bb:cc:00:00:99'; });
    expectOnlyReplaced(RICHLY_COMMENTED, single, 'eden:', "'AA:BB:CC:00:00:10'", "'aa:bb:cc:00:00:99'");
    const double = edit(RICHLY_COMMENTED, (d) => { d.servers.eden.location = 'den'; });
    expectOnlyReplaced(RICHLY_COMMENTED, double, 'eden:', '"living room"', '"den"');
  });

  it('keeps the trailing comment of a changed value', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.servers.eden.hostname = '192.168.1.20'; });
    expectOnlyReplaced(RICHLY_COMMENTED, out, 'eden:', '192.168.1.10', '192.168.1.20');
    expect(out).toContain('hostname: 192.168.1.20      # static lease');
  });

  it('changes a number inside a flow map alone', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.monitoring.grafana_port = 3001; });
    expectOnlyReplaced(RICHLY_COMMENTED, out, 'monitoring:', '3000', '3001');
  });

  it('adds a key at the end of its map, in the map\'s indentation, touching nothing else', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.servers.rivers.status = { health: 'healthy', last_seen: '2026-11-28T10:00:00Z' }; });
    expectOnlyReplaced(RICHLY_COMMENTED, out, 'rivers:', '    location: attic\n', '    location: attic\n    status:\n      health: healthy\n      last_seen: 2026-11-28T10:00:00Z\n');
  });

  it('appends to a block sequence in the sequence\'s own style', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.servers.eden.services.push('radarr'); });
    expectOnlyReplaced(RICHLY_COMMENTED, out, 'services:', '    - sonarr\n', '    - sonarr\n    - radarr\n');
  });

  it('rewrites only the flow sequence that changed', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.servers.eden.tags.push('kids'); });
    expectOnlyReplaced(RICHLY_COMMENTED, out, 'eden:', '[tv,   family]', '[tv, family, kids]');
  });

  it('removes a server with the comments directly above it, and nothing else', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { delete d.servers.rivers; });
    const start = RICHLY_COMMENTED.indexOf('  rivers:');
    const last = '    # a comment at the end of rivers\n';
    const end = RICHLY_COMMENTED.indexOf(last) + last.length;
    expect(out).toBe(RICHLY_COMMENTED.slice(0, start) + RICHLY_COMMENTED.slice(end));
  });

  it('removes the comment lines directly above a removed entry', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { delete d.servers.eden; });
    const start = RICHLY_COMMENTED.indexOf('  # The living-room box.');
    const end = RICHLY_COMMENTED.indexOf('\n  rivers:'); // the blank line between the two stays
    expect(out).toBe(RICHLY_COMMENTED.slice(0, start) + RICHLY_COMMENTED.slice(end));
  });

  it('removes one sequence item', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.servers.eden.services = ['sonarr']; });
    expectOnlyReplaced(RICHLY_COMMENTED, out, 'services:', '    - jellyfin                  # unindented sequence style\n', '');
  });

  it('keeps unknown keys and sections through any edit', () => {
    const out = edit(RICHLY_COMMENTED, (d) => { d.servers.eden.role = 'secondary'; });
    expect(out).toContain('custom_field: {keep: me, nested: [1, 2]}   # unknown key, kept');
    expect(out).toContain('x-unknown-section:\n  anything: goes   # kept too');
  });

  it('turns an empty value into a block, and a block into a scalar', () => {
    const text = 'a:\n  status:\n  b: 1 # c\n';
    const filled = edit(text, (d) => { d.a.status = { health: 'down' }; });
    expect(filled).toBe('a:\n  status:\n    health: down\n  b: 1 # c\n');
    const back = edit(filled, (d) => { d.a.status = 'gone'; });
    expect(back).toBe('a:\n  status: gone\n  b: 1 # c\n');
  });

  it('writes an empty map or list inline, so it reads back as empty', () => {
    const out = edit('a:\n  b:\n    c: 1\n  d: [x]\n', (d) => { d.a.b = {}; d.a.d = []; });
    expect(out).toBe('a:\n  b: {}\n  d: []\n');
  });

  it('adds a key to the last entry and a new entry after it, in that order', () => {
    const text = 'servers:\n  eden:\n    hostname: eden   # main\nnetwork: {}\n';
    const out = edit(text, (d) => { d.servers.eden.status = { health: 'up' }; d.servers.ocean = { hostname: 'ocean' }; });
    expect(out).toBe('servers:\n  eden:\n    hostname: eden   # main\n    status:\n      health: up\n  ocean:\n    hostname: ocean\nnetwork: {}\n');
  });

  it('grows an empty flow map into a block', () => {
    expect(edit('# fleet\nservers: {}\n', (d) => { d.servers.eden = { hostname: 'eden' }; })).toBe('# fleet\nservers:\n  eden:\n    hostname: eden\n');
  });

  it('edits a file that does not end with a newline', () => {
    expect(edit('a: 1', (d) => { d.b = 2; })).toBe('a: 1\nb: 2\n');
  });

  it('fills an empty document', () => {
    expect(edit('# only a comment\n', (d) => { Object.assign(d ?? {}, {}); })).toBe('# only a comment\n');
    expect(patchYaml('# only a comment\n', { servers: {} }, { windows })).toBe('# only a comment\nservers: {}\n');
  });

  it('removes the first key of a map that is a sequence item', () => {
    const out = edit('list:\n  - a: 1\n    b: 2\n', (d) => { delete d.list[0].a; });
    expect(parseDocument(out).toJS()).toEqual({ list: [{ b: 2 }] });
  });
});

describe.each([['windows', true], ['whole document', false]])('patchYaml (%s) properties', (_mode, useWindows) => {
  const keyArb = fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'status');
  const scalarArb = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('yes', '1.0', 'a: b', '#x', "it's", '- item', '', '  pad '));
  const valueArb = fc.oneof(scalarArb, fc.array(scalarArb, { maxLength: 3 }), fc.dictionary(keyArb, scalarArb, { maxKeys: 3, noNullPrototype: true }));

  type Op = { kind: 'set'; server: string; key: string; value: unknown } | { kind: 'delete'; server: string; key: string } | { kind: 'push'; server: string; value: unknown };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), server: fc.constantFrom('eden', 'rivers'), key: fc.constantFrom('hostname', 'role', 'tags', 'services', 'notes', 'status', 'custom_field', 'new_key'), value: valueArb }),
    fc.record({ kind: fc.constant('delete' as const), server: fc.constantFrom('eden', 'rivers'), key: fc.constantFrom('role', 'tags', 'services', 'notes', 'storage', 'location') }),
    fc.record({ kind: fc.constant('push' as const), server: fc.constantFrom('eden'), value: scalarArb }),
  );

  it('patches many changes at once, including new entries and new keys of the last entry', () => {
    const addArb = fc.record({ kind: fc.constant('add' as const), server: fc.constantFrom('ocean', 'sea', 'lake'), value: fc.dictionary(keyArb, scalarArb, { minKeys: 1, maxKeys: 3, noNullPrototype: true }) });
    // Also without the comment that ends the last entry, where both kinds of insertion meet.
    const texts = [RICHLY_COMMENTED, RICHLY_COMMENTED.replace('    # a comment at the end of rivers\n', '')];
    fc.assert(fc.property(fc.constantFrom(...texts), fc.array(fc.oneof(opArb, addArb), { minLength: 2, maxLength: 6 }), (text, ops) => {
      const doc = parseDocument(text);
      const data = doc.toJS() as Data;
      for (const op of ops) {
        if (op.kind === 'add') { data.servers[op.server] = op.value; continue; }
        const server = data.servers[op.server];
        if (op.kind === 'set') server[op.key] = op.value;
        else if (op.kind === 'delete') delete server[op.key];
        else if (Array.isArray(server.services)) server.services.push(op.value);
      }
      expect(parseDocument(patchYaml(text, data, { document: () => doc, windows: useWindows })).toJS()).toEqual(data);
    }), { numRuns: 300 });
  });

  it('reads back exactly as intended and keeps every comment outside removed entries', () => {
    const comments = (text: string) => text.split('\n').filter((l) => /^\s*#/.test(l)).map((l) => l.trim());
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 4 }), (ops) => {
        let text = RICHLY_COMMENTED;
        for (const op of ops) {
          const doc = parseDocument(text);
          const data = doc.toJS() as Data;
          const server = data.servers[op.server];
          if (op.kind === 'set') server[op.key] = op.value;
          else if (op.kind === 'delete') delete server[op.key];
          else if (Array.isArray(server.services)) server.services.push(op.value);
          const out = patchYaml(text, data, { document: () => doc, windows: useWindows });
          expect(parseDocument(out).toJS()).toEqual(data);
          text = out;
        }
        // Full-line comments not inside edited server entries all survive.
        const kept = comments(RICHLY_COMMENTED).filter((c) => !c.startsWith('# storage') && !c.startsWith('# a comment at the end'));
        for (const c of kept) expect(comments(text)).toContain(c);
      }),
      { numRuns: 300 },
    );
  });
});
