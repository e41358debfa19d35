import { describe, expect, it } from 'vitest';
import { fakeTree, PI_TREE } from './fixtures/linux-tree.js';
import { probeLinux } from './linux-probe.js';

describe('probeLinux', () => {
  it('reads os-release, the device tree, render nodes, the NVIDIA driver and block devices', async () => {
    const probe = await probeLinux(fakeTree(PI_TREE));
    expect(probe).toEqual({
      osRelease: PI_TREE['etc/os-release'],
      deviceTreeModel: 'Raspberry Pi 5 Model B Rev 1.0\0',
      renderNodes: [
        { name: 'renderD128', vendorId: null, driver: 'v3d', pciAddress: null },
        { name: 'renderD129', vendorId: '0x8086', driver: 'i915', pciAddress: '0000:01:00.0' },
      ],
      nvidiaDriver: true,
      blocks: [
        { name: 'dm-0', disk: 'dm-0', rotational: false, sizeBytes: 2048 * 512, dmName: 'vg-data' },
        { name: 'sda', disk: 'sda', rotational: true, sizeBytes: 15628053168 * 512, dmName: null },
        { name: 'sda1', disk: 'sda', rotational: true, sizeBytes: 15628050432 * 512, dmName: null },
      ],
    });
  });

  it('finds nothing, without failing, in an empty tree', async () => {
    expect(await probeLinux(fakeTree({}))).toEqual({ osRelease: null, deviceTreeModel: null, renderNodes: [], nvidiaDriver: false, blocks: [] });
  });

  it('reads /usr/lib/os-release when /etc has none, and /dev/nvidia0 as the NVIDIA driver', async () => {
    const probe = await probeLinux(fakeTree({ 'usr/lib/os-release': 'ID=debian\n', 'dev/nvidia0': '' }));
    expect(probe.osRelease).toBe('ID=debian\n');
    expect(probe.nvidiaDriver).toBe(true);
  });
});
