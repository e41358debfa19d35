import { describe, expect, it } from 'vitest';
import { ORIGINAL_FORMAT } from '../testing/fixtures.js';
import { analyze } from './analyze.js';
import { formatFinding, type Finding } from './findings.js';

const BASE = `servers:
  eden:
    hostname: 192.168.1.10
  rivers:
    hostname: 192.168.1.11
`;

const check = (services: string) => analyze(`${BASE}services:\n${services}`, 'fleet.yaml');
const codes = (findings: Finding[]) => findings.map((f) => f.code);

describe('services: catalog overrides and custom services', () => {
  it('loads the original format\'s primary/replicas pins unchanged', () => {
    const result = analyze(ORIGINAL_FORMAT, 'inventory.yaml');
    expect(result.findings).toEqual([]);
    expect(result.inventory.services?.jellyfin).toEqual({ primary: 'eden', replicas: ['rivers'] });
  });

  it('accepts overrides of catalog fields, a replica count and placement selectors', () => {
    const result = check(`  jellyfin:
    port: 8097
    needs: {memory_mb: 4096}
    single_writer: true
    systemd_unit: jellyfin-custom.service
    state_dir: /srv/jellyfin
    replicas: 2
    on: "tag:tv"
    not_on: "hardware_type=raspberry-pi"
    probe: {kind: http, path: /health, expect: {status: 200, body: Healthy}}
    status_probe: {kind: http, path: /System/Info, auth: {kind: header, name: X-Emby-Token}}
`);
    expect(result.findings).toEqual([]);
    expect(result.inventory.services?.jellyfin?.replicas).toBe(2);
  });

  it('reports a custom service with neither port nor probe at the line of its name', () => {
    const result = check('  jellyfin:\n    primary: eden\n  my-app:\n    primary: eden\n');
    const finding = result.findings.find((f) => f.code === 'custom-service-without-probe') as Finding;
    expect(finding).toMatchObject({ severity: 'error', path: ['services', 'my-app'], file: 'fleet.yaml', line: 9, column: 3 });
    expect(formatFinding(finding)).toMatch(/^fleet\.yaml:9:3: error services\.my-app: custom service "my-app" has no port or probe/);
    expect(result.ok).toBe(false);
  });

  it('suggests the catalog name when a custom service looks like a typo', () => {
    const finding = check('  jellyfn:\n    primary: eden\n').findings.find((f) => f.code === 'custom-service-without-probe');
    expect(finding?.hint).toBe('did you mean "jellyfin"?');
  });

  it('accepts custom services with a port, an http probe with a port, or a command probe', () => {
    const result = check(`  home-assistant:
    port: 8123
  photos:
    probe: {kind: http, path: /api/health, port: 2283, expect: {status: 200}}
  backup-check:
    probe: {kind: command, argv: [restic, check], expect_exit: [0]}
`);
    expect(result.findings).toEqual([]);
  });

  it('reports an http or tcp probe of a custom service with no port to reach', () => {
    const result = check('  photos:\n    probe: {kind: http, path: /api/health}\n');
    expect(codes(result.findings)).toEqual(['probe-without-port']);
    expect(result.findings[0]).toMatchObject({ path: ['services', 'photos', 'probe'], line: 8 });
  });

  it('warns of a relative key file with no state directory to find it in', () => {
    const custom = check('  photos:\n    port: 2283\n    key_source: {file: config.json, format: yaml, field: api.key}\n');
    expect(custom.findings.map((f) => [f.code, f.severity, f.path.join('.'), f.line])).toEqual([['key-source-without-state-dir', 'warning', 'services.photos.key_source', 9]]);
    expect(custom.ok).toBe(true);
    const catalog = check('  sonarr:\n    state_dir: null\n');
    expect(catalog.findings.map((f) => [f.code, f.path.join('.')])).toEqual([['key-source-without-state-dir', 'services.sonarr.state_dir']]);
    expect(check('  photos:\n    port: 2283\n    key_source: {file: /etc/photos/key.yaml, format: yaml, field: key}\n').findings).toEqual([]);
    expect(check('  photos:\n    port: 2283\n    state_dir: /var/lib/photos\n    key_source: {file: key.yaml, format: yaml, field: key}\n').findings).toEqual([]);
  });

  it('validates probes with the service schema', () => {
    const result = check('  my-app:\n    port: 80\n    probe: {kind: smtp}\n  other:\n    port: 81\n    probe: {kind: http, path: health}\n');
    expect(result.ok).toBe(false);
    expect(result.findings.filter((f) => f.severity === 'error').map((f) => f.path.slice(0, 3))).toEqual([
      ['services', 'my-app', 'probe'],
      ['services', 'other', 'probe'],
    ]);
  });

  it('checks the on/not_on selectors', () => {
    const result = check('  sonarr:\n    on: "tag:"\n');
    expect(codes(result.findings)).toEqual(['invalid-selector']);
    expect(result.findings[0]?.path).toEqual(['services', 'sonarr', 'on']);
  });

  it('warns about unknown keys inside the probe of the kind given, and keeps them', () => {
    const result = check('  backup-check:\n    probe: {kind: command, argv: [/bin/true], timout_ms: 5}\n');
    expect(result.ok).toBe(true);
    expect(result.findings.map((f) => [f.code, f.path.join('.'), f.hint])).toEqual([
      ['unknown-key', 'services.backup-check.probe.timout_ms', 'did you mean "timeout_ms"?'],
    ]);
  });
});
