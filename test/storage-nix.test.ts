/**
 * The NixOS modules `cistern storage plan` writes, read by Nix itself (Debian's nix-bin):
 * `nix-instantiate --parse` accepts each one, and evaluating it gives back exactly the devices,
 * mount points, options and /etc/exports lines the plan holds, escapes and all.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/inventory/analyze.js';
import type { Inventory } from '../src/inventory/schema.js';
import { storagePlan } from '../src/storage/index.js';
import { tempDir } from '../src/testing/tmp.js';
import { runOk } from './support/process.js';

interface Evaluated {
  services?: { nfs: { server: { enable: boolean; exports: string } } };
  networking?: { firewall: { allowedTCPPorts: number[] } };
  fileSystems?: Record<string, { device: string; fsType: string; options: string[] }>;
}

const odd = (root: string): Inventory => ({
  servers: {
    nas: { hostname: 'fd00::2', storage: [{ device: 'mergerfs', mount: '/srv' }, { device: '/dev/sdc1', mount: `${root}/tv` }] },
    tv: { hostname: '10.0.0.3', services: ['jellyfin'] },
    dl: { hostname: 'dl.lan', services: ['sabnzbd'] },
  },
  storage: { media_root: root },
});

const cases: [string, Inventory][] = [
  ['the example inventory', analyze(readFileSync('examples/inventory.yaml', 'utf8'), 'examples/inventory.yaml').inventory],
  ['a media root with a space, quotes, a backslash and ${...}', odd('/srv/My "Media" \\ ${pkgs.hello}')],
  ['a media root with two single quotes', odd("/srv/it''s")],
];

describe('generated NixOS modules', () => {
  it.each(cases)('%s: parse, and evaluate to the plan', async (_name, inventory) => {
    const plan = storagePlan(inventory);
    expect(Object.keys(plan.nixos).length).toBeGreaterThan(0);
    const dir = tempDir();
    for (const [server, text] of Object.entries(plan.nixos)) {
      const file = join(dir, `${server}.nix`);
      writeFileSync(file, text);
      await runOk('nix-instantiate', ['--parse', file]);
      const value = JSON.parse((await runOk('nix-instantiate', ['--eval', '--strict', '--json', file])).stdout) as Evaluated;

      const lines = plan.exportsLines[server];
      if (lines) {
        expect(value.services?.nfs.server).toEqual({ enable: true, exports: `${lines.join('\n')}\n` });
        expect(value.networking?.firewall.allowedTCPPorts).toEqual([2049]);
      } else expect(value.services).toBeUndefined();

      const mounts = plan.mounts.filter((m) => m.server === server);
      expect(value.fileSystems ?? {}).toEqual(Object.fromEntries(mounts.map((m) => [m.at, { device: m.device, fsType: 'nfs', options: m.options }])));
    }
  });
});
