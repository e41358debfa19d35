import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { ORIGINAL_FORMAT, RICHLY_COMMENTED, generateInventory } from '../testing/fixtures.js';
import { analyze, fastParse } from './analyze.js';
import type { Finding } from './findings.js';

const BASE = `servers:
  eden:
    hostname: 192.168.1.10
    mac_address: "aa:bb:cc:00:00:10"
  rivers:
    hostname: 192.168.1.11
network:
  subnet: 192.168.1.0/24
  gateway: 192.168.1.1
`;

function only(findings: Finding[], code: string): Finding {
  const matching = findings.filter((f) => f.code === code);
  expect(matching, `findings with code ${code}: ${JSON.stringify(findings, null, 1)}`).toHaveLength(1);
  return matching[0] as Finding;
}

describe('analyze', () => {
  it('loads the original Cistern format unchanged, with no findings at all', () => {
    const result = analyze(ORIGINAL_FORMAT, 'inventory.yaml');
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(Object.keys(result.inventory.servers ?? {})).toEqual(['eden', 'rivers']);
    expect(result.inventory.services?.jellyfin?.replicas).toEqual(['rivers']);
  });

  it('accepts generated fleets and the commented fixture', () => {
    expect(analyze(generateInventory({ servers: 50 }), 'g.yaml').findings).toEqual([]);
    expect(analyze(RICHLY_COMMENTED, 'r.yaml').findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('shows a YAML syntax error with its line and a caret', () => {
    const result = analyze('servers:\n  eden:\n    hostname: a: b\n', 'bad.yaml');
    expect(result.ok).toBe(false);
    const f = result.findings[0] as Finding;
    expect(f.code).toBe('yaml-syntax');
    expect(f.file).toBe('bad.yaml');
    expect([f.line, f.column]).toEqual([3, 15]);
    expect(f.excerpt).toBe('    hostname: a: b\n              ^');
  });

  it('reports duplicate names with their location', () => {
    const result = analyze('servers:\n  eden:\n    hostname: a\n  eden:\n    hostname: b\n', 'dup.yaml');
    const f = only(result.findings, 'duplicate-name');
    expect([f.line, f.column]).toEqual([4, 3]);
    expect(f.message).toContain('"eden"');
  });

  // Each row: a change to BASE, the finding code, its field path, and its line.
  const cases: [string, string, string, string, (string | number)[], number][] = [
    ['malformed MAC', '"aa:bb:cc:00:00:10"', '"aa:bb:cc:00:10"', 'invalid-mac', ['servers', 'eden', 'mac_address'], 4],
    ['malformed IP', 'gateway: 192.168.1.1', 'gateway: 192.168.1.300', 'invalid-ip', ['network', 'gateway'], 9],
    ['malformed CIDR', 'subnet: 192.168.1.0/24', 'subnet: 192.168.1.0/33', 'invalid-cidr', ['network', 'subnet'], 8],
    ['gateway outside the subnet', 'gateway: 192.168.1.1', 'gateway: 10.0.0.1', 'outside-subnet', ['network', 'gateway'], 9],
    ['address outside the subnet', 'hostname: 192.168.1.11', 'hostname: 192.168.2.11', 'outside-subnet', ['servers', 'rivers', 'hostname'], 6],
    ['duplicate address', 'hostname: 192.168.1.11', 'hostname: 192.168.1.10', 'duplicate-hostname', ['servers', 'rivers', 'hostname'], 6],
  ];
  it.each(cases)('finds %s', (_name, from, to, code, path, line) => {
    const result = analyze(BASE.replace(from, to), 'inv.yaml');
    const f = only(result.findings, code);
    expect(f.path).toEqual(path);
    expect(f.line).toBe(line);
    expect(f.severity).toBe('error');
    expect(result.ok).toBe(false);
  });

  it('allows boxes behind one address when their SSH ports differ', () => {
    const text = BASE.replace('    hostname: 192.168.1.11\n', '    hostname: rivers.lan\n    address: 192.168.1.10\n    ssh: {port: 2222}\n');
    expect(analyze(text, 'inv.yaml').ok).toBe(true);
  });

  it('finds a duplicate MAC address and names the first owner', () => {
    const text = BASE.replace('    hostname: 192.168.1.11\n', '    hostname: 192.168.1.11\n    mac_address: AA:BB:CC:00:00:10\n');
    const f = only(analyze(text, 'inv.yaml').findings, 'duplicate-mac');
    expect(f.message).toContain('"eden"');
    expect(f.path).toEqual(['servers', 'rivers', 'mac_address']);
  });

  it('finds an address equal to another server\'s host name', () => {
    const text = BASE.replace('    hostname: 192.168.1.11\n', '    hostname: rivers.lan\n    address: 192.168.1.10\n');
    expect(only(analyze(text, 'inv.yaml').findings, 'duplicate-address').path).toEqual(['servers', 'rivers', 'address']);
  });

  it('checks the DHCP range against the subnet and its order', () => {
    const outside = analyze(`${BASE}  dhcp_range: {start: 192.168.1.100, end: 192.168.9.1}\n`, 'i.yaml');
    expect(only(outside.findings, 'outside-subnet').path).toEqual(['network', 'dhcp_range', 'end']);
    const reversed = analyze(`${BASE}  dhcp_range: {start: 192.168.1.200, end: 192.168.1.100}\n`, 'i.yaml');
    only(reversed.findings, 'dhcp-range-reversed');
  });

  it('finds malformed dates', () => {
    const f = only(analyze(BASE.replace('    hostname: 192.168.1.11\n', '    hostname: 192.168.1.11\n    last_updated: 2024-13-45\n'), 'i.yaml').findings, 'invalid-date');
    expect(f.found).toBe('"2024-13-45"');
  });

  it('finds unknown roles and hardware types, with a suggestion', () => {
    const text = BASE.replace('    hostname: 192.168.1.11\n', '    hostname: 192.168.1.11\n    role: primry\n    hardware_type: raspberrypi\n');
    const findings = analyze(text, 'i.yaml').findings;
    expect(only(findings, 'unknown-role').hint).toBe('did you mean "primary"?');
    expect(only(findings, 'unknown-hardware-type').hint).toBe('did you mean "raspberry-pi"?');
  });

  it('checks services: names, primaries, replicas', () => {
    const text = `${BASE.replace('    hostname: 192.168.1.11\n', '    hostname: 192.168.1.11\n    services: [jellyfn]\n')}services:
  jellyfin:
    primary: eden
    replicas: [eden, mars]
  sonarr:
    primary: nowhere
  my-app:
    primary: eden
`;
    const findings = analyze(text, 'i.yaml').findings;
    expect(findings.filter((f) => f.code === 'unknown-service').map((f) => f.path)).toEqual([
      ['servers', 'rivers', 'services', 0],
    ]);
    expect(only(findings, 'custom-service-without-probe').path).toEqual(['services', 'my-app']);
    expect(only(findings, 'replica-is-primary').path).toEqual(['services', 'jellyfin', 'replicas', 0]);
    expect(findings.filter((f) => f.code === 'unknown-server').map((f) => f.path)).toEqual([
      ['services', 'jellyfin', 'replicas', 1],
      ['services', 'sonarr', 'primary'],
    ]);
  });

  it('accepts a custom service declared with a port', () => {
    const text = `${BASE}services:\n  my-app:\n    port: 8123\n    primary: eden\n`;
    expect(analyze(text, 'i.yaml').ok).toBe(true);
  });

  it('finds a storage mount used twice on one server', () => {
    const text = BASE.replace('    hostname: 192.168.1.11\n', '    hostname: 192.168.1.11\n    storage:\n      - {device: /dev/sda1, mount: /mnt/a}\n      - {device: /dev/sdb1, mount: /mnt/a/}\n');
    expect(only(analyze(text, 'i.yaml').findings, 'duplicate-mount').path).toEqual(['servers', 'rivers', 'storage', 1, 'mount']);
  });

  it('warns about unknown keys with "did you mean", and keeps them valid', () => {
    const result = analyze(BASE.replace('  rivers:\n', '  rivers:\n    servics: [jellyfin]\n'), 'i.yaml');
    const f = only(result.findings, 'unknown-key');
    expect(f.severity).toBe('warning');
    expect(f.hint).toBe('did you mean "services"?');
    expect([f.line, f.column]).toEqual([6, 5]);
    expect(result.ok).toBe(true);
  });

  it('reports every problem at once, even when the schema fails in places', () => {
    const text = `servers:
  eden:
    hostname: 192.168.1.10
    mac_address: nope
    role: boss
  broken:
    role: primary
services:
  jellyfin:
    primary: eden
    replicas: [eden]
`;
    const codes = analyze(text, 'i.yaml').findings.map((f) => f.code).sort();
    expect(codes).toEqual(['invalid-mac', 'missing-field', 'replica-is-primary', 'unknown-role']);
  });

  it('checks group selectors, members and cycles', () => {
    const text = `${BASE}groups:
  a: {selector: "group:b"}
  b: {selector: "group:a"}
  c: {members: [ghost]}
  d: {selector: "colour=red"}
`;
    const findings = analyze(text, 'i.yaml').findings;
    expect(findings.some((f) => f.code === 'group-cycle')).toBe(true);
    expect(only(findings, 'unknown-server').path).toEqual(['groups', 'c', 'members', 0]);
    expect(only(findings, 'invalid-selector').message).toContain('unknown field "colour"');
  });

  it('checks template syntax', () => {
    const f = only(analyze(`${BASE}templates:\n  motd: "{% if x %}never closed"\n`, 'i.yaml').findings, 'template-syntax');
    expect(f.path).toEqual(['templates', 'motd']);
    expect(f.line).toBe(11);
  });

  it('requires the document to be a map', () => {
    expect(analyze('- a\n- b\n', 'i.yaml').ok).toBe(false);
  });
});

describe('the fast parser agrees with the Document', () => {
  const documentValue = (text: string) => parseDocument(text, { uniqueKeys: true }).toJS({ maxAliasCount: 1000 });

  it('on every fixture', () => {
    for (const text of [ORIGINAL_FORMAT, RICHLY_COMMENTED, generateInventory({ servers: 20 })]) {
      expect(fastParse(text)?.value).toEqual(documentValue(text));
    }
  });

  it('on YAML 1.2 core scalars that older schemas read differently', () => {
    const text = 'a: yes\nb: 0o17\nc: 2024-01-15\nd: .inf\ne: ~\nf: 0x1F\ng: "1e3"\nh: 1e3\ni: on\nj: 012\nk: [1, "2", true]\n';
    expect(fastParse(text)?.value).toEqual(documentValue(text));
  });

  it('on any data the yaml library writes', () => {
    // js-yaml reads `-0` as 0, the Document as -0: no inventory field tells them apart.
    const double = fc.double({ noNaN: true }).map((d) => (Object.is(d, -0) ? 0 : d));
    const leaf = fc.oneof(fc.string(), fc.integer(), double, fc.boolean(), fc.constant(null));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tie('node'), { maxKeys: 4, noNullPrototype: true })),
    })).node;
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), tree, { noNullPrototype: true }), (value) => {
      const text = stringify(value);
      expect(fastParse(text)?.value).toEqual(documentValue(text));
    }), { numRuns: 500 });
  });
});
