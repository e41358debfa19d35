import { describe, expect, it } from 'vitest';
import { cli } from '../../../testing/cli.js';
import { tempDir, tempFile } from '../../../testing/tmp.js';

const INVENTORY = `servers:
  eden:
    hostname: 192.168.1.10
services:
  jellyfin:
    primary: eden
    needs: {memory_mb: 4096}
  home-assistant:
    port: 8123
`;

describe('services catalog', () => {
  it('lists the catalog with the inventory\'s overrides and custom services', async () => {
    const file = tempFile('inventory.yaml', INVENTORY);
    const run = await cli(['services', 'catalog', '--file', file, '--json']);
    expect(run.code).toBe(0);
    const services = JSON.parse(run.stdout) as { name: string; source: string; needs: { memory_mb: number } }[];
    expect(services.map((s) => [s.name, s.source])).toEqual([
      ['jellyfin', 'override'], ['sonarr', 'catalog'], ['radarr', 'catalog'], ['prowlarr', 'catalog'], ['bazarr', 'catalog'],
      ['transmission', 'catalog'], ['sabnzbd', 'catalog'], ['jellyseerr', 'catalog'], ['home-assistant', 'custom'],
    ]);
    expect(services[0]?.needs.memory_mb).toBe(4096);

    const text = await cli(['services', 'catalog', '--file', file]);
    expect(text.stdout.split('\n')[0]).toBe(`services of ${file}`);
    expect(text.stdout).toMatch(/^NAME\s+PORT\s+PROBE\s+KEY\s+STATE\s+SINGLE\s+NEEDS\s+UNIT\s+SOURCE$/m);
    expect(text.stdout).toMatch(/^jellyfin\s+8096\s+GET \/health\s+header Authorization\s+\/var\/lib\/jellyfin\s+yes\s+4096 MB, 2 cpu, 20 GB\s+jellyfin\.service\s+override$/m);
    expect(text.stdout).toMatch(/^home-assistant\s+8123\s+tcp :8123\s+-\s+-\s+no\s/m);
  });

  it('lists the built-in catalog where there is no inventory', async () => {
    const run = await cli(['services', 'catalog'], { cwd: tempDir() });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('built-in catalog (no inventory file found)');
    expect(run.stdout).toContain('transmission.service');
  });

  it('refuses a named inventory that is missing or invalid', async () => {
    expect((await cli(['services', 'catalog', '--file', '/nonexistent/inventory.yaml'])).code).toBe(1);
    const invalid = tempFile('inventory.yaml', 'services:\n  my-app:\n    primary: eden\n');
    const run = await cli(['services', 'catalog', '--file', invalid]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_INVENTORY_INVALID');
  });
});
