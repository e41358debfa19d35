import { describe, expect, it } from 'vitest';
import { gpuModel, osFromRelease, parseDeviceTreeModel, parseOsRelease, vendorFromDriver, vendorFromName, vendorFromPciId } from './facts-parse.js';

// /etc/os-release as these systems ship it.
const DEBIAN = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;
const NIXOS = `ANSI_COLOR="1;34"
BUG_REPORT_URL="https://github.com/NixOS/nixpkgs/issues"
BUILD_ID="24.05.20240605.6346da3"
DOCUMENTATION_URL="https://nixos.org/learn.html"
HOME_URL="https://nixos.org/"
ID=nixos
LOGO="nix-snowflake"
NAME=NixOS
PRETTY_NAME="NixOS 24.05 (Uakari)"
VERSION="24.05 (Uakari)"
VERSION_CODENAME=uakari
VERSION_ID="24.05"
`;

describe('os-release', () => {
  it('reads Debian', () => {
    expect(osFromRelease(parseOsRelease(DEBIAN))).toEqual({ name: 'Debian GNU/Linux', id: 'debian', version: '12', nixosVersion: null });
  });

  it('reads NixOS, with the build id as its version', () => {
    expect(osFromRelease(parseOsRelease(NIXOS))).toEqual({ name: 'NixOS', id: 'nixos', version: '24.05', nixosVersion: '24.05.20240605.6346da3' });
  });

  it('falls back to VERSION_ID for a NixOS without BUILD_ID', () => {
    expect(osFromRelease({ ID: 'nixos', NAME: 'NixOS', VERSION_ID: '23.11' })?.nixosVersion).toBe('23.11');
  });

  it('handles quotes, escapes, comments and blank lines', () => {
    const fields = parseOsRelease(`# comment\n\nNAME='Single Quoted'\nPRETTY_NAME="say \\"hi\\" \\$HOME"\nID=arch\nnot a line\n`);
    expect(fields).toEqual({ NAME: 'Single Quoted', PRETTY_NAME: 'say "hi" $HOME', ID: 'arch' });
  });

  it('knows nothing from an empty file, and defaults ID to linux', () => {
    expect(osFromRelease(parseOsRelease(''))).toBeNull();
    expect(osFromRelease({ NAME: 'Mystery' })).toEqual({ name: 'Mystery', id: 'linux', version: '', nixosVersion: null });
  });
});

describe('device-tree model', () => {
  it('drops the trailing NUL', () => {
    expect(parseDeviceTreeModel('Raspberry Pi 4 Model B Rev 1.4\0')).toBe('Raspberry Pi 4 Model B Rev 1.4');
  });

  it('is null when empty', () => {
    expect(parseDeviceTreeModel('\0')).toBeNull();
  });
});

describe('GPU vendors', () => {
  it('maps PCI vendor ids as sysfs and lspci write them', () => {
    expect(vendorFromPciId('0x8086\n')).toBe('intel');
    expect(vendorFromPciId('0x1002')).toBe('amd');
    expect(vendorFromPciId('10de')).toBe('nvidia');
    expect(vendorFromPciId('0x1af4')).toBe('other'); // virtio
    expect(vendorFromPciId('')).toBeNull();
    expect(vendorFromPciId(null)).toBeNull();
  });

  it('maps kernel drivers, including the Pi’s platform GPU', () => {
    expect(vendorFromDriver('i915')).toBe('intel');
    expect(vendorFromDriver('xe')).toBe('intel');
    expect(vendorFromDriver('amdgpu')).toBe('amd');
    expect(vendorFromDriver('v3d')).toBe('broadcom');
    expect(vendorFromDriver('virtio-pci')).toBeNull();
  });

  it('maps lspci vendor names without false matches', () => {
    expect(vendorFromName('Intel Corporation')).toBe('intel');
    expect(vendorFromName('Advanced Micro Devices, Inc. [AMD/ATI]')).toBe('amd');
    expect(vendorFromName('NVIDIA Corporation')).toBe('nvidia');
    expect(vendorFromName('Broadcom')).toBe('broadcom');
    expect(vendorFromName('Red Hat, Inc.')).toBe('other');
    expect(vendorFromName('Silicon Motion Corporation')).toBe('other');
    expect(vendorFromName('')).toBeNull();
  });
});

describe('GPU model names', () => {
  it('takes the bracketed product name and puts the vendor first', () => {
    expect(gpuModel('intel', 'CoffeeLake-S GT2 [UHD Graphics 630]')).toBe('Intel UHD Graphics 630');
    expect(gpuModel('intel', 'Alder Lake-N [UHD Graphics]')).toBe('Intel UHD Graphics');
    expect(gpuModel('amd', 'Navi 23 [Radeon RX 6600/6600 XT/6600M]')).toBe('AMD Radeon RX 6600/6600 XT/6600M');
  });

  it('does not repeat the vendor', () => {
    expect(gpuModel('nvidia', 'NVIDIA GeForce RTX 3060')).toBe('NVIDIA GeForce RTX 3060');
  });

  it('names an unknown model by its vendor', () => {
    expect(gpuModel('broadcom', undefined)).toBe('Broadcom GPU');
    expect(gpuModel('other', '')).toBe('unknown GPU');
  });
});
