import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze } from '../inventory/analyze.js';
import type { Inventory, Server } from '../inventory/schema.js';
import { MOUNT_OPTIONS } from './options.js';
import { fsid, storagePlan } from './plan.js';

const example = analyze(readFileSync('examples/inventory.yaml', 'utf8'), 'examples/inventory.yaml');

const server = (address: string, over: Partial<Server> = {}): Server => ({ hostname: address, ...over });
const disk = (mount: string, device = '/dev/sdb1') => ({ device, mount });

/** A small fleet: nas holds the library, tv runs Jellyfin, dl runs Transmission, idx only Prowlarr. */
function fleet(over: { servers?: Record<string, Server>; storage?: Inventory['storage']; services?: Inventory['services']; network?: Inventory['network'] } = {}): Inventory {
  return {
    servers: over.servers ?? {
      nas: server('10.0.0.2', { role: 'storage', storage: [disk('/srv/media')] }),
      tv: server('10.0.0.3', { services: ['jellyfin'] }),
      dl: server('10.0.0.4', { services: ['transmission'] }),
      idx: server('10.0.0.5', { services: ['prowlarr'] }),
    },
    network: over.network ?? { subnet: '10.0.0.0/24' },
    storage: { media_root: '/srv/media', ...over.storage },
    ...(over.services && { services: over.services }),
  };
}

const codes = (inventory: Inventory) => storagePlan(inventory).conflicts.map((c) => `${c.severity} ${c.code}${c.server ? ` ${c.server}` : ''}`);

describe('storagePlan on the original-format example inventory', () => {
  const plan = storagePlan(example.inventory);

  it('loads unchanged and exports the media root from the one server whose storage holds it', () => {
    expect(example.findings).toEqual([]);
    expect(plan.mediaRoot).toBe('/mnt/media');
    expect(plan.mediaServer).toBe('eden');
    expect(plan.exports).toEqual([{
      server: 'eden', path: '/mnt/media', clients: ['ocean', 'rivers'], allow: ['192.168.1.12', '192.168.1.11'],
      options: ['rw', 'sync', 'no_subtree_check', 'root_squash'],
    }]);
  });

  it('mounts it at the same path on every server that runs a service needing media', () => {
    // rivers runs transmission and is Jellyfin's replica; ocean runs Bazarr.
    expect(plan.mounts.map((m) => [m.server, m.from, m.device, m.at])).toEqual([
      ['ocean', 'eden:/mnt/media', '192.168.1.10:/mnt/media', '/mnt/media'],
      ['rivers', 'eden:/mnt/media', '192.168.1.10:/mnt/media', '/mnt/media'],
    ]);
    expect(plan.mounts[0]?.options).toEqual(MOUNT_OPTIONS.map((c) => c.option));
    expect(plan.mounts[0]?.options).toEqual(expect.arrayContaining(['nfsvers=4', 'hard', 'timeo=600', 'retrans=2']));
  });

  it('writes /etc/exports lines and a NixOS module for each server involved', () => {
    expect(plan.exportsLines).toEqual({
      eden: ['/mnt/media 192.168.1.12(rw,sync,no_subtree_check,root_squash) 192.168.1.11(rw,sync,no_subtree_check,root_squash)'],
    });
    expect(Object.keys(plan.nixos)).toEqual(['eden', 'ocean', 'rivers']);
    expect(plan.nixos.eden).toContain("services.nfs.server.exports = ''\n    /mnt/media 192.168.1.12(");
    expect(plan.nixos.eden).toContain('networking.firewall.allowedTCPPorts = [ 2049 ];');
    expect(plan.nixos.rivers).toContain('fileSystems."/mnt/media" = {\n    device = "192.168.1.10:/mnt/media";\n    fsType = "nfs";');
  });

  it('warns that the backup location sits on a server whose data it backs up', () => {
    expect(plan.conflicts).toEqual([expect.objectContaining({
      severity: 'warning', code: 'backup-on-same-server', server: 'ocean', path: '/mnt/backup', field: ['storage', 'backup_locations', 0],
    })]);
    expect(plan.conflicts[0]?.message).toContain('the state of bazarr');
  });
});

describe('choosing the exporting server', () => {
  it.each<[string, Inventory, string | null, string[]]>([
    ['the one holder', fleet(), 'nas', []],
    ['a holder whose disk is mounted above the media root', fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv')] }), tv: server('10.0.0.3', { services: ['jellyfin'] }) } }), 'nas', []],
    ['the deepest entry of a holder decides nothing else', fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv'), disk('/srv/media', '/dev/sdc1')] }) } }), 'nas', []],
    ['no holder', fleet({ servers: { tv: server('10.0.0.3', { services: ['jellyfin'] }) } }), null, ['error media-root-on-no-server']],
    ['a disk listed at / holds nothing', fleet({ servers: { tv: server('10.0.0.3', { storage: [disk('/', '/dev/nvme0n1p2')], services: ['jellyfin'] }) } }), null, ['error media-root-on-no-server']],
    ['only a network entry at the media root is no holder', fleet({ servers: { tv: server('10.0.0.3', { storage: [disk('/srv/media', 'nas:/srv/media')] }) } }), null, ['error media-root-on-no-server']],
    ['two holders claim the same path', fleet({ servers: { a: server('10.0.0.2', { storage: [disk('/srv/media')] }), b: server('10.0.0.3', { storage: [disk('/srv/media')] }) } }), null, ['error media-root-claimed-twice']],
    ['media_server settles two claims; the other mounts over its own disk', fleet({
      servers: { a: server('10.0.0.2', { storage: [disk('/srv/media')] }), b: server('10.0.0.3', { storage: [disk('/srv/media')], services: ['sonarr'] }) },
      storage: { media_server: 'a' },
    }), 'a', ['error mount-collides-with-storage b']],
    ['media_server that is not a server', fleet({ storage: { media_server: 'nass' } }), null, ['error unknown-media-server']],
    ['media_server without the disk in its storage list', fleet({ storage: { media_server: 'tv' } }), 'tv', ['warning media-server-without-storage tv']],
    ['no media root at all', { servers: { a: server('10.0.0.2', { services: ['jellyfin'] }) } }, null, []],
    ['a relative media root', fleet({ storage: { media_root: 'media' } }), null, ['error media-root-invalid']],
  ])('%s', (_name, inventory, exporter, expected) => {
    const plan = storagePlan(inventory);
    expect(plan.mediaServer).toBe(exporter);
    expect(codes(inventory)).toEqual(expected);
    if (exporter === null) expect([plan.exports, plan.mounts, plan.nixos, plan.exportsLines]).toEqual([[], [], {}, {}]);
  });

  it('names both claimants and how to settle it', () => {
    const [conflict] = storagePlan(fleet({ servers: { a: server('10.0.0.2', { storage: [disk('/srv/media')] }), b: server('10.0.0.3', { storage: [disk('/srv/media/')] }) } })).conflicts;
    expect(conflict).toMatchObject({ path: '/srv/media', field: ['storage', 'media_root'], hint: expect.stringContaining('storage.media_server') });
    expect(conflict?.message).toContain('a and b');
  });
});

describe('who mounts the media root', () => {
  it('every server but the exporter that runs a service with needs.media, named on it or pinned to it', () => {
    const plan = storagePlan(fleet({ services: { sonarr: { primary: 'idx' }, radarr: { replicas: ['nas'] } } }));
    expect(plan.mounts.map((m) => m.server)).toEqual(['dl', 'idx', 'tv']);
    expect(plan.exports[0]?.clients).toEqual(['dl', 'idx', 'tv']);
  });

  it('follows needs.media overrides and custom services', () => {
    const plan = storagePlan(fleet({
      servers: {
        nas: server('10.0.0.2', { storage: [disk('/srv/media')] }),
        tv: server('10.0.0.3', { services: ['jellyfin'] }),
        photos: server('10.0.0.6', { services: ['immich'] }),
      },
      services: { jellyfin: { needs: { media: false } }, immich: { port: 2283, needs: { media: true } } },
    }));
    expect(plan.mounts.map((m) => m.server)).toEqual(['photos']);
  });

  it('exports nothing when no other server needs the library', () => {
    const plan = storagePlan(fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv/media')], services: ['jellyfin'] }), idx: server('10.0.0.5', { services: ['prowlarr'] }) } }));
    expect(plan).toMatchObject({ mediaServer: 'nas', exports: [], mounts: [], nixos: {}, exportsLines: {}, conflicts: [] });
  });

  it.each<[string, Server['storage'], string[]]>([
    ['its own disk at the mount point', [disk('/srv/media')], ['error mount-collides-with-storage tv']],
    ['its own disk below the mount point', [disk('/srv/media/tv')], ['error mount-collides-with-storage tv']],
    ['its own disk above the mount point (the mount sits on it)', [disk('/srv')], []],
    ['the same NFS mount written by hand, by address', [disk('/srv/media', '10.0.0.2:/srv/media')], []],
    ['the same NFS mount written by hand, by server name', [disk('/srv/media', 'nas:/srv/media')], []],
    ['another NFS mount at the mount point', [disk('/srv/media', 'old-nas:/export')], ['error mount-collides-with-storage tv']],
  ])('a client with %s', (_name, storage, expected) => {
    const inventory = fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv/media')] }), tv: server('10.0.0.3', { services: ['jellyfin'], storage }) }, storage: { media_server: 'nas' } });
    expect(codes(inventory)).toEqual(expected);
    if (expected.length > 0) expect(storagePlan(inventory).conflicts[0]?.field).toEqual(['servers', 'tv', 'storage', 0, 'mount']);
  });
});

describe('what the export lets in', () => {
  it('each client by its address (IPv4 and IPv6 normalized) or host name', () => {
    const plan = storagePlan(fleet({
      servers: {
        nas: server('10.0.0.2', { storage: [disk('/srv/media')] }),
        a: server('a.lan', { services: ['jellyfin'] }),
        b: server('b', { address: 'FD00:0:0::7', services: ['sonarr'] }),
        c: server('c', { address: '::ffff:10.0.0.9', services: ['radarr'] }),
      },
    }));
    expect(plan.exports[0]?.allow).toEqual(['a.lan', 'fd00::7', '10.0.0.9']);
  });

  it('the whole subnet with export_to: subnet', () => {
    expect(storagePlan(fleet({ storage: { export_to: 'subnet' } })).exports[0]?.allow).toEqual(['10.0.0.0/24']);
  });

  it('falls back to the clients, with an error, when export_to: subnet has no subnet', () => {
    const inventory = fleet({ storage: { export_to: 'subnet' }, network: {} });
    expect(storagePlan(inventory).exports[0]?.allow).toEqual(['10.0.0.4', '10.0.0.3']);
    expect(codes(inventory)).toEqual(['error export-to-subnet-without-subnet']);
  });

  it('warns about a client outside the subnet (NFS across homes)', () => {
    const inventory = fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv/media')] }), far: server('far', { address: '100.64.1.2', services: ['jellyfin'] }) } });
    expect(codes(inventory)).toEqual(['warning client-outside-subnet far']);
    expect(storagePlan(inventory).conflicts[0]?.field).toEqual(['servers', 'far', 'address']);
  });

  it('adds crossmnt when other disks are mounted below the media root on the exporter', () => {
    const plan = storagePlan(fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv/media'), disk('/srv/media/tv', '/dev/sdc1')] }), tv: server('10.0.0.3', { services: ['jellyfin'] }) } }));
    expect(plan.exports[0]?.options).toContain('crossmnt');
  });

  it.each(['mergerfs', '/mnt/disk*', '/mnt/disk1:/mnt/disk2'])('gives a FUSE pool (%s) a stable fsid', (device) => {
    const plan = storagePlan(fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv/media', device)] }), tv: server('10.0.0.3', { services: ['jellyfin'] }) } }));
    expect(plan.exports[0]?.options).toContain(`fsid=${fsid('/srv/media')}`);
    expect(fsid('/srv/media')).toBeGreaterThan(0);
    expect(fsid('/srv/media')).toBe(fsid('/srv/media'));
  });

  it('mounts from an IPv6 exporter in brackets and a named exporter by name', () => {
    const v6 = storagePlan(fleet({ servers: { nas: server('nas', { address: 'fd00::2', storage: [disk('/srv/media')] }), tv: server('10.0.0.3', { services: ['jellyfin'] }) }, network: {} }));
    expect(v6.mounts[0]?.device).toBe('[fd00::2]:/srv/media');
    const named = storagePlan(fleet({ servers: { nas: server('nas.lan', { storage: [disk('/srv/media')] }), tv: server('10.0.0.3', { services: ['jellyfin'] }) } }));
    expect(named.mounts[0]?.device).toBe('nas.lan:/srv/media');
  });
});

describe('paths that need escaping', () => {
  it('a media root with a space and a ${ stays one path in exports and Nix', () => {
    const root = '/srv/My Media/${x}';
    const plan = storagePlan(fleet({ servers: { nas: server('10.0.0.2', { storage: [disk('/srv')] }), tv: server('10.0.0.3', { services: ['jellyfin'] }) }, storage: { media_root: root } }));
    expect(plan.exportsLines.nas).toEqual(['/srv/My\\040Media/\\044\\173x\\175 10.0.0.3(rw,sync,no_subtree_check,root_squash)']);
    expect(plan.nixos.tv).toContain('fileSystems."/srv/My Media/\\${x}" = {');
    expect(plan.nixos.tv).toContain('device = "10.0.0.2:/srv/My Media/\\${x}";');
  });

  it('normalizes slashes', () => {
    expect(storagePlan(fleet({ storage: { media_root: '/srv//media/' } })).mediaRoot).toBe('/srv/media');
  });
});

describe('single-writer state on network storage', () => {
  it('is an error under the media root, reported at the service\'s state_dir', () => {
    const inventory = fleet({ services: { sonarr: { state_dir: '/srv/media/.sonarr' } } });
    expect(codes(inventory)).toEqual(['error state-on-network-storage']);
    expect(storagePlan(inventory).conflicts[0]).toMatchObject({ path: '/srv/media/.sonarr', field: ['services', 'sonarr', 'state_dir'] });
  });

  it('is an error inside a network storage entry of a server that runs the service', () => {
    const inventory = fleet({
      servers: {
        nas: server('10.0.0.2', { storage: [disk('/srv/media')] }),
        tv: server('10.0.0.3', { services: ['jellyfin'], storage: [disk('/mnt/share', '//nas/share')] }),
        other: server('10.0.0.4', { storage: [disk('/mnt/share', '//nas/share')] }),
      },
      services: { jellyfin: { state_dir: '/mnt/share/jellyfin' } },
    });
    expect(codes(inventory)).toEqual(['error state-on-network-storage tv']);
  });

  it('is fine for stateless or multi-writer services and for the catalog defaults', () => {
    expect(codes(fleet({ services: { tool: { port: 9000, state_dir: '/srv/media/tool', single_writer: false } } }))).toEqual([]);
    expect(codes(fleet())).toEqual([]);
  });
});

describe('backup locations', () => {
  it.each<[string, unknown[], string[]]>([
    ['on a server that holds nothing it protects', ['/backup'], []],
    ['on the exporter, below the media root', ['/srv/media/backups'], ['warning backup-on-same-server nas']],
    ['on no server\'s storage list', ['/var/backups'], ['warning backup-on-same-server']],
    ['a remote restic repository', ['sftp:backup@far:/restic', 's3:s3.amazonaws.com/bucket'], []],
    ['given with its server, which runs Jellyfin', [{ path: '/backup', server: 'tv' }], ['warning backup-on-same-server tv']],
    ['given with a server that does not exist', [{ path: '/backup', server: 'nope' }], ['error unknown-server']],
  ])('%s', (_name, locations, expected) => {
    const inventory = fleet({
      servers: {
        nas: server('10.0.0.2', { storage: [disk('/srv/media')] }),
        safe: server('10.0.0.9', { storage: [disk('/backup', '/dev/sdd1')] }),
        tv: server('10.0.0.3', { services: ['jellyfin'] }),
      },
      storage: { backup_locations: locations as NonNullable<Inventory['storage']>['backup_locations'] },
    });
    expect(codes(inventory)).toEqual(expected);
  });

  it('says what is at risk', () => {
    const [conflict] = storagePlan(fleet({ storage: { backup_locations: ['/srv/media/backups'] } })).conflicts;
    expect(conflict?.message).toBe('backup location /srv/media/backups is on nas, which also holds the media library (/srv/media): losing nas loses the data and its backup');
  });
});

describe('storagePlan as a function', () => {
  it('is deterministic whatever the order of servers, and leaves its input alone', () => {
    const a = fleet();
    const reversed: Inventory = { ...a, servers: Object.fromEntries(Object.entries(a.servers ?? {}).reverse()) };
    const copy = structuredClone(a);
    expect(storagePlan(reversed)).toEqual(storagePlan(a));
    expect(a).toEqual(copy);
  });

  it('keeps its invariants on random fleets', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const arbServer = fc.record({
      holds: fc.constantFrom('none', 'root', 'parent', 'below'),
      services: fc.subarray(['jellyfin', 'sonarr', 'prowlarr', 'transmission', 'jellyseerr']),
    });
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...names), arbServer, { maxKeys: 5 }), fc.option(fc.constantFrom(...names), { nil: undefined }), (spec, mediaServer) => {
      const servers: Record<string, Server> = {};
      Object.entries(spec).forEach(([name, s], i) => {
        const mount = { none: undefined, root: '/srv/media', parent: '/srv', below: '/srv/media/x' }[s.holds];
        servers[name] = server(`10.0.0.${i + 10}`, { services: s.services, ...(mount && { storage: [disk(mount)] }) });
      });
      const plan = storagePlan({ servers, network: { subnet: '10.0.0.0/24' }, storage: { media_root: '/srv/media', ...(mediaServer && { media_server: mediaServer }) } });
      const errors = plan.conflicts.filter((c) => c.severity === 'error');
      // No exporter means an error says why; an exporter never mounts its own export.
      if (plan.mediaServer === null) expect(errors.length).toBeGreaterThan(0);
      expect(plan.mounts.every((m) => m.server !== plan.mediaServer && m.at === '/srv/media')).toBe(true);
      expect(plan.mounts.map((m) => m.server)).toEqual(plan.exports[0]?.clients ?? []);
      expect(Object.keys(plan.nixos).sort()).toEqual([...plan.exports.map((e) => e.server), ...plan.mounts.map((m) => m.server)].sort());
      for (const text of Object.values(plan.nixos)) expect(balanced(text)).toBe(true);
    }), { numRuns: 300 });
  });
});

/** Braces and brackets pair up outside strings: the structural check the unit tests can make without nix. */
function balanced(text: string): boolean {
  const stack: string[] = [];
  const code = text.replace(/^\s*#.*$/gm, '').replace(/"(\\.|[^"\\])*"/g, '""').replace(/''[\s\S]*?''(?!')/g, "''");
  for (const c of code) {
    if (c === '{' || c === '[') stack.push(c);
    else if (c === '}' && stack.pop() !== '{') return false;
    else if (c === ']' && stack.pop() !== '[') return false;
  }
  return stack.length === 0;
}
