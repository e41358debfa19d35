/**
 * Pure parsers for what Linux tells directly: os-release, the device-tree model, PCI vendor ids
 * and kernel driver names. No I/O here; linux-probe.ts reads the files.
 */
import type { Facts, GpuVendor } from './facts-schema.js';

/** Block devices that are not storage a person put in the box: loop images, RAM disks, optical drives, eMMC boot areas. */
export const NOT_STORAGE = /^(loop|ram|zram|sr|fd|nbd)\d|^mmcblk\d+(boot\d+|rpmb)$/;

/** os-release(5): shell-style KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    fields[match[1]] = unquote(match[2]);
  }
  return fields;
}

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
    const inner = value.slice(1, -1);
    // Inside double quotes os-release allows shell escapes of ", \, $ and `.
    return quote === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return value;
}

export function osFromRelease(fields: Record<string, string>): Facts['os'] | null {
  const id = fields.ID;
  const name = fields.NAME ?? fields.PRETTY_NAME;
  if (id === undefined && name === undefined) return null;
  const version = fields.VERSION_ID ?? fields.BUILD_ID ?? '';
  return {
    name: name ?? id ?? 'unknown',
    id: id ?? 'linux', // os-release(5): ID defaults to "linux" when absent
    version,
    // BUILD_ID carries the nixpkgs date and revision (24.05.20240605.abc1234), which is what
    // tells two NixOS builds apart; VERSION_ID alone is only the release.
    nixosVersion: id === 'nixos' ? (fields.BUILD_ID ?? fields.VERSION_ID ?? null) : null,
  };
}

/** /proc/device-tree/model is NUL-terminated; an empty model means none. */
export function parseDeviceTreeModel(text: string): string | null {
  const model = text.replace(/\0/g, '').trim();
  return model === '' ? null : model;
}

const PCI_VENDORS: Record<string, GpuVendor> = { '8086': 'intel', '1002': 'amd', '1022': 'amd', '10de': 'nvidia', '14e4': 'broadcom' };

/** `0x8086` (sysfs) or `8086` (lspci) → vendor; null when there is no id at all. */
export function vendorFromPciId(id: string | null | undefined): GpuVendor | null {
  const hex = id?.trim().toLowerCase().replace(/^0x/, '');
  if (hex === undefined || !/^[0-9a-f]{4}$/.test(hex)) return null;
  return PCI_VENDORS[hex] ?? 'other';
}

const DRIVER_VENDORS: Record<string, GpuVendor> = {
  i915: 'intel', xe: 'intel', amdgpu: 'amd', radeon: 'amd', nvidia: 'nvidia', nouveau: 'nvidia',
  // The Raspberry Pi's VideoCore: v3d renders, vc4 scans out. Platform devices, so no PCI id.
  v3d: 'broadcom', vc4: 'broadcom',
};

export function vendorFromDriver(driver: string | null | undefined): GpuVendor | null {
  return driver ? (DRIVER_VENDORS[driver] ?? null) : null;
}

/** Vendor strings as lspci and nvidia-smi print them ("Intel Corporation", "[AMD/ATI]"). */
export function vendorFromName(name: string | null | undefined): GpuVendor | null {
  const text = name?.toLowerCase() ?? '';
  if (text === '') return null;
  if (text.includes('intel')) return 'intel';
  if (text.includes('nvidia')) return 'nvidia';
  if (/\b(amd|ati)\b/.test(text) || text.includes('advanced micro devices')) return 'amd';
  if (text.includes('broadcom')) return 'broadcom';
  return 'other';
}

const VENDOR_NAMES: Record<GpuVendor, string> = { intel: 'Intel', amd: 'AMD', nvidia: 'NVIDIA', broadcom: 'Broadcom', other: '' };

/**
 * A readable model with the vendor first. lspci names a chip and its product, as in
 * "CoffeeLake-S GT2 [UHD Graphics 630]"; the bracketed product is what people recognise.
 */
export function gpuModel(vendor: GpuVendor, raw: string | null | undefined): string {
  const text = (raw ?? '').trim();
  const bracketed = /\[([^\]]+)\]\s*$/.exec(text)?.[1];
  const product = (bracketed ?? text).trim();
  const prefix = VENDOR_NAMES[vendor];
  if (product === '') return prefix === '' ? 'unknown GPU' : `${prefix} GPU`;
  if (prefix === '' || product.toLowerCase().startsWith(prefix.toLowerCase())) return product;
  return `${prefix} ${product}`;
}
