import { describe, expect, it } from 'vitest';
import { buildFacts, type NodeView, type RawFacts, type SiResults } from './facts-build.js';
import { factsSchema } from './facts-schema.js';
import { raspberryPi4 } from './fixtures/raspberry-pi.js';
import type { LinuxProbe } from './linux-probe.js';
import { detectProfile } from './profile.js';

// systeminformation results are wide; tests spell out the fields buildFacts reads.
const si = (results: Record<string, unknown>): SiResults => results as SiResults;
const NO_PROBE: LinuxProbe = { osRelease: null, deviceTreeModel: null, renderNodes: [], nvidiaDriver: false, blocks: [] };
const NODE: NodeView = { hostname: 'box', machine: 'x86_64', totalmem: 8e9, cpus: [{ model: 'Intel(R) Core(TM) i5-8500T CPU @ 2.10GHz' }], interfaces: {} };
const raw = (over: Partial<RawFacts>): RawFacts => ({
  si: {},
  linux: NO_PROBE,
  node: NODE,
  collectedAt: new Date('2025-03-02T10:15:00.000Z'),
  gaps: [],
  ...over,
});

describe('buildFacts', () => {
  it('names an Intel iGPU from lspci and links it to its render node by PCI address', () => {
    const facts = buildFacts(
      raw({
        si: si({
          graphics: {
            controllers: [{ vendor: 'Intel Corporation', model: 'CoffeeLake-S GT2 [UHD Graphics 630]', bus: 'Onboard', busAddress: '00:02.0', vram: null, vramDynamic: false }],
            displays: [],
          },
        }),
        linux: { ...NO_PROBE, renderNodes: [{ name: 'renderD128', vendorId: '0x8086', driver: 'i915', pciAddress: '0000:00:02.0' }] },
      }),
    );
    expect(facts.gpus).toEqual([{ vendor: 'intel', model: 'Intel UHD Graphics 630', renderNode: '/dev/dri/renderD128' }]);
    expect(facts.transcoding).toEqual({ renderNodes: ['/dev/dri/renderD128'], quickSync: true, vaapi: true, nvenc: false });
    expect(detectProfile(facts).reason).toBe('intel-quicksync: Intel UHD Graphics 630, /dev/dri/renderD128');
  });

  it('tells a discrete NVIDIA card from the iGPU beside it, by nvidia-smi name', () => {
    const facts = buildFacts(
      raw({
        si: si({
          graphics: {
            controllers: [
              { vendor: 'Intel Corporation', model: 'AlderLake-S GT1 [UHD Graphics 770]', busAddress: '00:02.0' },
              { vendor: 'NVIDIA Corporation', model: 'GA106 [GeForce RTX 3060 Lite Hash Rate]', name: 'NVIDIA GeForce RTX 3060', busAddress: '01:00.0' },
            ],
            displays: [],
          },
        }),
        linux: {
          ...NO_PROBE,
          nvidiaDriver: true,
          renderNodes: [
            { name: 'renderD128', vendorId: '0x8086', driver: 'i915', pciAddress: '0000:00:02.0' },
            { name: 'renderD129', vendorId: '0x10de', driver: 'nvidia', pciAddress: '0000:01:00.0' },
          ],
        },
      }),
    );
    expect(facts.gpus).toEqual([
      { vendor: 'intel', model: 'Intel UHD Graphics 770', renderNode: '/dev/dri/renderD128' },
      { vendor: 'nvidia', model: 'NVIDIA GeForce RTX 3060', renderNode: '/dev/dri/renderD129' },
    ]);
    expect(facts.transcoding.nvenc).toBe(true);
    expect(detectProfile(facts).profile).toBe('nvidia');
  });

  it('lists a GPU without a driver, with no render node', () => {
    const facts = buildFacts(raw({ si: si({ graphics: { controllers: [{ vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]', model: 'Navi 23 [Radeon RX 6600/6600 XT/6600M]' }], displays: [] } }) }));
    expect(facts.gpus).toEqual([{ vendor: 'amd', model: 'AMD Radeon RX 6600/6600 XT/6600M', renderNode: null }]);
    expect(facts.transcoding.vaapi).toBe(false);
  });

  it('reproduces the Raspberry Pi 4 fixture from what that Pi reports', () => {
    const facts = buildFacts(
      raw({
        si: si({
          cpu: { manufacturer: 'Sony UK', brand: 'BCM2711', vendor: 'ARM', socket: 'SOC', cores: 4, physicalCores: 4 },
          mem: { total: 8_190_509_056 },
          graphics: { controllers: [{ vendor: 'Broadcom', model: 'VideoCore VI', bus: '', vram: 76, vramDynamic: true }], displays: [] },
          fsSize: raspberryPi4.disks.filter((d) => d.mount !== null).map((d) => ({ fs: d.device, type: d.fsType, size: d.sizeBytes, available: d.freeBytes, mount: d.mount })),
          blockDevices: [
            { name: 'mmcblk0', type: 'disk', size: 31_914_983_424, physical: 'SSD', fsType: '' },
            { name: 'mmcblk0p1', type: 'part', size: 536_870_912, physical: '', fsType: 'vfat' },
            { name: 'sda', type: 'disk', size: 1_000_204_886_016, physical: 'HDD', fsType: '' },
          ],
          networkInterfaces: [
            { iface: 'lo', mac: '00:00:00:00:00:00', ip4: '127.0.0.1', ip6: '::1', internal: true },
            { iface: 'end0', mac: 'dc:a6:32:4e:1a:07', ip4: '192.168.1.41', ip6: 'fe80::dea6:32ff:fe4e:1a07', internal: false },
            { iface: 'wlan0', mac: 'dc:a6:32:4e:1a:08', ip4: '', ip6: '', internal: false },
          ],
        }),
        linux: {
          osRelease: 'ID=nixos\nNAME=NixOS\nVERSION_ID="24.05"\nBUILD_ID="24.05.20240605.6346da3"\n',
          deviceTreeModel: 'Raspberry Pi 4 Model B Rev 1.4\0',
          renderNodes: [{ name: 'renderD128', vendorId: null, driver: 'v3d', pciAddress: null }],
          nvidiaDriver: false,
          blocks: [
            { name: 'mmcblk0', disk: 'mmcblk0', rotational: false, sizeBytes: 31_914_983_424, dmName: null },
            { name: 'mmcblk0p1', disk: 'mmcblk0', rotational: false, sizeBytes: 536_870_912, dmName: null },
            { name: 'mmcblk0p2', disk: 'mmcblk0', rotational: false, sizeBytes: 31_378_112_512, dmName: null },
            { name: 'sda', disk: 'sda', rotational: true, sizeBytes: 1_000_204_886_016, dmName: null },
            { name: 'sda1', disk: 'sda', rotational: true, sizeBytes: 1_000_203_837_440, dmName: null },
          ],
        },
        node: { hostname: 'pi-livingroom', machine: 'aarch64', totalmem: 8_190_509_056, cpus: [{ model: 'unknown' }], interfaces: {} },
      }),
    );
    expect(facts).toEqual(raspberryPi4);
  });

  it('maps device-mapper mounts to their volume and lists unmounted disks from sysfs alone', () => {
    const facts = buildFacts(
      raw({
        si: si({ fsSize: [{ fs: '/dev/mapper/vg-data', type: 'xfs', size: 4e12, available: 3e12, mount: '/srv' }] }),
        linux: {
          ...NO_PROBE,
          blocks: [
            { name: 'dm-0', disk: 'dm-0', rotational: true, sizeBytes: 4e12, dmName: 'vg-data' },
            { name: 'sdb', disk: 'sdb', rotational: true, sizeBytes: 4_000_787_030_016, dmName: null },
          ],
        },
      }),
    );
    expect(facts.disks).toEqual([
      { device: '/dev/mapper/vg-data', disk: '/dev/dm-0', mount: '/srv', fsType: 'xfs', sizeBytes: 4e12, freeBytes: 3e12, rotational: true },
      { device: '/dev/sdb', disk: '/dev/sdb', mount: null, fsType: null, sizeBytes: 4_000_787_030_016, freeBytes: null, rotational: true },
    ]);
  });

  it('skips loopback and keeps every address Node sees', () => {
    const facts = buildFacts(
      raw({
        si: si({ networkInterfaces: [{ iface: 'wg0', mac: '', ip4: '10.8.0.2', ip6: '', internal: false }] }),
        node: {
          ...NODE,
          interfaces: {
            lo: [{ address: '127.0.0.1', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, netmask: '255.0.0.0', cidr: '127.0.0.1/8' }],
            eth0: [
              { address: '192.168.1.5', family: 'IPv4', mac: '02:00:00:00:00:05', internal: false, netmask: '255.255.255.0', cidr: '192.168.1.5/24' },
              { address: '192.168.1.6', family: 'IPv4', mac: '02:00:00:00:00:05', internal: false, netmask: '255.255.255.0', cidr: '192.168.1.6/24' },
            ],
          },
        },
      }),
    );
    expect(facts.interfaces).toEqual([
      { name: 'wg0', mac: null, addresses: ['10.8.0.2'] },
      { name: 'eth0', mac: '02:00:00:00:00:05', addresses: ['192.168.1.5', '192.168.1.6'] },
    ]);
  });

  it('gives valid facts when every source failed', () => {
    const facts = buildFacts(raw({ node: { hostname: '', machine: '', totalmem: 0, cpus: [], interfaces: {} }, gaps: ['cpu: timed out after 10000 ms'] }));
    expect(factsSchema.parse(facts)).toEqual(facts);
    expect(facts).toMatchObject({
      hostname: 'unknown',
      cpu: { model: 'unknown', vendor: 'unknown', cores: null, threads: null },
      memory: { totalBytes: null },
      os: { name: 'unknown', id: 'unknown', version: '', nixosVersion: null },
      gaps: ['cpu: timed out after 10000 ms'],
    });
  });

  it('falls back to Node for the CPU when systeminformation failed', () => {
    const facts = buildFacts(raw({ node: { ...NODE, cpus: [{ model: 'Intel(R) N100' }, { model: 'Intel(R) N100' }, { model: 'Intel(R) N100' }, { model: 'Intel(R) N100' }] } }));
    expect(facts.cpu).toEqual({ model: 'Intel(R) N100', vendor: 'unknown', cores: null, threads: 4 });
    expect(facts.memory.totalBytes).toBe(8e9);
  });
});
