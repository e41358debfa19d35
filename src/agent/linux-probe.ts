/**
 * Reads what the Linux kernel tells directly, under `root` so tests can point it at a fake tree.
 * Every read is allowed to fail (a container has no /sys/class/drm, a PC no device tree):
 * a missing file is a missing fact, never an error. Parsing lives in facts-parse.ts.
 */
import { access, readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NOT_STORAGE } from './facts-parse.js';

export interface RenderNodeProbe {
  /** `renderD128` */
  name: string;
  /** PCI vendor id from sysfs, e.g. `0x8086`; null for platform devices (the Pi's v3d). */
  vendorId: string | null;
  /** Kernel driver, e.g. `i915`, `amdgpu`, `v3d`. */
  driver: string | null;
  /** PCI address, e.g. `0000:00:02.0`, to match the GPU lspci describes. */
  pciAddress: string | null;
}

export interface BlockProbe {
  /** Kernel name: `sda`, `sda1`, `nvme0n1p2`, `dm-0`. */
  name: string;
  /** The whole disk: `sda` for `sda1`, the name itself for a disk. */
  disk: string;
  rotational: boolean | null;
  /** From sysfs, which counts 512-byte sectors whatever the disk's own sector size. */
  sizeBytes: number | null;
  /** Device-mapper name (`vg-data`), to match `/dev/mapper/vg-data` mounts. */
  dmName: string | null;
}

export interface LinuxProbe {
  osRelease: string | null;
  deviceTreeModel: string | null;
  renderNodes: RenderNodeProbe[];
  /** The NVIDIA proprietary driver is loaded, so NVENC is usable. */
  nvidiaDriver: boolean;
  blocks: BlockProbe[];
}

const text = (path: string) => readFile(path, 'utf8').catch(() => null);
const exists = (path: string) => access(path).then(() => true, () => false);
const link = (path: string) => readlink(path).catch(() => null);
const list = (path: string) => readdir(path).catch((): string[] => []);

const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

export async function probeLinux(root = '/'): Promise<LinuxProbe> {
  const at = (path: string) => join(root, path);
  const [osRelease, model, renderNodes, nvidiaDriver, blocks] = await Promise.all([
    text(at('etc/os-release')).then((found) => found ?? text(at('usr/lib/os-release'))),
    text(at('proc/device-tree/model')),
    probeRenderNodes(at),
    Promise.all([exists(at('proc/driver/nvidia')), exists(at('dev/nvidia0'))]).then(([a, b]) => a || b),
    probeBlocks(at),
  ]);
  return { osRelease, deviceTreeModel: model, renderNodes, nvidiaDriver, blocks };
}

async function probeRenderNodes(at: (path: string) => string): Promise<RenderNodeProbe[]> {
  const names = (await list(at('dev/dri')))
    .filter((name) => /^renderD\d+$/.test(name))
    .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
  return Promise.all(
    names.map(async (name) => {
      const device = at(`sys/class/drm/${name}/device`);
      const [vendor, driver, target] = await Promise.all([text(join(device, 'vendor')), link(join(device, 'driver')), link(device)]);
      const address = target === null ? null : basename(target);
      return {
        name,
        vendorId: vendor?.trim() || null,
        driver: driver === null ? null : basename(driver),
        pciAddress: address !== null && PCI_ADDRESS.test(address) ? address : null,
      };
    }),
  );
}

async function probeBlocks(at: (path: string) => string): Promise<BlockProbe[]> {
  const names = (await list(at('sys/class/block'))).filter((name) => !NOT_STORAGE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const entry = at(`sys/class/block/${name}`);
      // A partition's sysfs folder sits inside its disk's folder.
      const disk = (await exists(join(entry, 'partition')))
        ? ((await realpath(entry).then((path) => basename(dirname(path)), () => null)) ?? name)
        : name;
      const [rotational, sectors, dmName] = await Promise.all([
        text(at(`sys/class/block/${disk}/queue/rotational`)),
        text(join(entry, 'size')),
        text(join(entry, 'dm/name')),
      ]);
      const flag = rotational?.trim();
      const size = Number(sectors?.trim());
      return {
        name,
        disk,
        rotational: flag === '1' ? true : flag === '0' ? false : null,
        sizeBytes: sectors !== null && Number.isSafeInteger(size) ? size * 512 : null,
        dmName: dmName?.trim() || null,
      };
    }),
  );
}
