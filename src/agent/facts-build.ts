/**
 * Turns raw readings — systeminformation results, the Linux probe, Node's own view — into Facts.
 * Pure: every input may be missing (a call failed or timed out) and the result is still valid.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import type { Systeminformation as Si } from 'systeminformation';
import { buildDisks } from './facts-disks.js';
import { gpuModel, osFromRelease, parseDeviceTreeModel, parseOsRelease, vendorFromDriver, vendorFromName, vendorFromPciId } from './facts-parse.js';
import type { Facts, GpuFact, GpuVendor } from './facts-schema.js';
import type { LinuxProbe, RenderNodeProbe } from './linux-probe.js';

export interface SiResults {
  osInfo?: Si.OsData;
  cpu?: Si.CpuData;
  mem?: Si.MemData;
  fsSize?: Si.FsSizeData[];
  blockDevices?: Si.BlockDevicesData[];
  graphics?: Si.GraphicsData;
  networkInterfaces?: Si.NetworkInterfacesData[];
}

/** What Node tells without a subprocess: the fallback when systeminformation fails. */
export interface NodeView {
  hostname: string;
  machine: string;
  totalmem: number;
  cpus: { model: string }[];
  interfaces: Partial<Record<string, NetworkInterfaceInfo[]>>;
}

export interface RawFacts {
  si: SiResults;
  linux: LinuxProbe;
  node: NodeView;
  collectedAt: Date;
  gaps: string[];
}

export function buildFacts(raw: RawFacts): Facts {
  const { si, linux, node } = raw;
  const gpus = buildGpus(list(si.graphics?.controllers), linux.renderNodes);
  const withNode = (vendors: GpuVendor[]) => gpus.some((gpu) => gpu.renderNode !== null && vendors.includes(gpu.vendor));
  return {
    hostname: node.hostname || si.osInfo?.hostname || 'unknown',
    architecture: node.machine || si.osInfo?.arch || 'unknown',
    cpu: buildCpu(si.cpu, node.cpus),
    memory: { totalBytes: positive(si.mem?.total) ?? positive(node.totalmem) },
    disks: buildDisks({ fsSize: list(si.fsSize), blockDevices: list(si.blockDevices), blocks: linux.blocks }),
    gpus,
    transcoding: {
      renderNodes: linux.renderNodes.map((node) => `/dev/dri/${node.name}`),
      quickSync: withNode(['intel']),
      // VA-API drivers exist for Intel (iHD, i965) and AMD (radeonsi); the Pi's v3d has none.
      vaapi: withNode(['intel', 'amd']),
      nvenc: linux.nvidiaDriver,
    },
    deviceModel: linux.deviceTreeModel === null ? null : parseDeviceTreeModel(linux.deviceTreeModel),
    os: (linux.osRelease === null ? null : osFromRelease(parseOsRelease(linux.osRelease))) ?? osFromSi(si.osInfo),
    interfaces: buildInterfaces(list(si.networkInterfaces), node.interfaces),
    collectedAt: raw.collectedAt.toISOString(),
    gaps: raw.gaps,
  };
}

// Results cross a worker boundary untyped; a list that is not one is treated as missing.
const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
const positive = (n: number | undefined): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null);
const count = (n: number | undefined): number | null => (typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null);

const CPU_VENDOR_IDS: Record<string, string> = { GenuineIntel: 'Intel', AuthenticAMD: 'AMD' };

function buildCpu(cpu: Si.CpuData | undefined, nodeCpus: { model: string }[]): Facts['cpu'] {
  const nodeModel = nodeCpus[0]?.model.trim();
  // On a SoC (the Pi) systeminformation names the chip, e.g. BCM2711, which /proc/cpuinfo lacks.
  // Elsewhere the kernel's model name is exact, where systeminformation trims words off it.
  const siModel = cpu ? [cpu.socket === 'SOC' ? '' : cpu.manufacturer, cpu.brand].filter(Boolean).join(' ') : '';
  const model = cpu?.socket === 'SOC' ? siModel : nodeModel && nodeModel !== 'unknown' ? nodeModel : siModel;
  return {
    model: model || 'unknown',
    vendor: (cpu && (CPU_VENDOR_IDS[cpu.vendor] ?? (cpu.vendor || cpu.manufacturer))) || 'unknown',
    cores: count(cpu?.physicalCores),
    threads: count(cpu?.cores) ?? count(nodeCpus.length),
  };
}

function osFromSi(os: Si.OsData | undefined): Facts['os'] {
  return { name: os?.distro || 'unknown', id: os?.logofile || 'unknown', version: os?.release || '', nixosVersion: null };
}

/**
 * One GPU per render node, named from the lspci entry at the same PCI address (or of the same
 * vendor), then the GPUs lspci lists that have no render node (no driver bound).
 */
export function buildGpus(controllers: Si.GraphicsControllerData[], renderNodes: RenderNodeProbe[]): GpuFact[] {
  const unused = [...controllers];
  const take = (test: (c: Si.GraphicsControllerData) => boolean) => {
    const index = unused.findIndex(test);
    return index < 0 ? undefined : unused.splice(index, 1)[0];
  };
  const gpus = renderNodes.map((node): GpuFact => {
    const vendor = vendorFromPciId(node.vendorId) ?? vendorFromDriver(node.driver) ?? 'other';
    const address = node.pciAddress;
    const controller =
      (address ? take((c) => Boolean(c.busAddress) && address.endsWith(c.busAddress ?? '')) : undefined) ??
      take((c) => controllerVendor(c) === vendor);
    return { vendor, model: controllerModel(vendor, controller), renderNode: `/dev/dri/${node.name}` };
  });
  for (const controller of unused) {
    const vendor = controllerVendor(controller);
    gpus.push({ vendor, model: controllerModel(vendor, controller), renderNode: null });
  }
  return gpus;
}

function controllerVendor(c: Si.GraphicsControllerData): GpuVendor {
  return vendorFromPciId(c.vendorId) ?? vendorFromName(c.vendor) ?? vendorFromName(c.model) ?? 'other';
}

function controllerModel(vendor: GpuVendor, c: Si.GraphicsControllerData | undefined): string {
  // nvidia-smi's name ("NVIDIA GeForce RTX 3060") is the product name; lspci's is the chip's.
  return gpuModel(vendor, c?.name || c?.model);
}

const ZERO_MAC = /^(00:){5}00$/;

function buildInterfaces(siList: Si.NetworkInterfacesData[], nodeMap: NodeView['interfaces']): Facts['interfaces'] {
  const names = [...new Set([...siList.map((i) => i.iface), ...Object.keys(nodeMap)])];
  const result: Facts['interfaces'] = [];
  for (const name of names) {
    const fromSi = siList.find((i) => i.iface === name);
    const fromNode = nodeMap[name] ?? [];
    if (name === 'lo' || fromSi?.internal || fromNode.some((a) => a.internal)) continue;
    const mac = [fromSi?.mac, fromNode[0]?.mac].find((m) => m && !ZERO_MAC.test(m)) ?? null;
    // Node lists every address; systeminformation only the first IPv4 and IPv6.
    const addresses = fromNode.length > 0 ? fromNode.map((a) => a.address) : [fromSi?.ip4, fromSi?.ip6].filter((a): a is string => Boolean(a));
    result.push({ name, mac, addresses });
  }
  return result;
}
