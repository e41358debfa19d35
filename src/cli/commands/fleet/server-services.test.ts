import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../../services/catalog.js';
import { parseServicesFile } from './server-services.js';

describe('cistern server set-services: the services file', () => {
  it('fills in the catalog definition of a catalog service, and keeps a definition given', () => {
    const custom = { ...CATALOG[0], name: 'web', port: 8080 };
    const args = parseServicesFile(`
services:
  - name: jellyfin
    run: true
  - name: web
    run: false
    driver: process
    process: { argv: [/usr/bin/web, --foreground] }
    definition: ${JSON.stringify(custom)}
    supervision: { interval_ms: 500, restart_budget: { restarts: 3, window_ms: 60000 } }
`, 'services.yaml');
    expect(args.services.map((s) => [s.name, s.definition.name, s.definition.port, s.run])).toEqual([['jellyfin', 'jellyfin', 8096, true], ['web', 'web', 8080, false]]);
    expect(args.services[1]?.supervision).toEqual({ interval_ms: 500, restart_budget: { restarts: 3, window_ms: 60_000 } });
  });

  it('names the file and the field of what is wrong', () => {
    expect(() => parseServicesFile('services:\n  - name: web\n    run: true\n', 'services.yaml')).toThrow(expect.objectContaining({
      code: 'E_BAD_REQUEST', message: expect.stringMatching(/^services\.yaml: services\.0\.definition: /),
    }));
    expect(() => parseServicesFile('services: [', 's.yaml')).toThrow(expect.objectContaining({ code: 'E_BAD_REQUEST', message: expect.stringMatching(/^s\.yaml: not YAML or JSON/) }));
  });
});
