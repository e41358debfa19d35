/**
 * Paths and addresses as the storage plan compares them. Pure string work: nothing here looks at
 * a disk. Paths are POSIX and absolute; `/mnt/media/` and `/mnt//media` are `/mnt/media`.
 */
import ipaddr from 'ipaddr.js';
import type { Server } from '../inventory/schema.js';

/** Collapses repeated and trailing slashes and resolves `.` and `..`; undefined for a relative path. */
export function normalizePath(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** `path` is `dir` or lies below it. Both normalized. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || dir === '/' || path.startsWith(`${dir}/`);
}

/**
 * A storage entry whose device is someone else's disk: `host:/export` (NFS), `//host/share`
 * (SMB/CIFS), `sshfs#host:` or `user@host:` (sshfs). Local devices are `/dev/...`, a label,
 * a UUID=, a ZFS dataset (`tank/media`) or a pool name.
 */
export function isNetworkDevice(device: string): boolean {
  return /^[^/\s]+:\//.test(device) || device.startsWith('//') || /^sshfs#/.test(device) || /^[^/\s@]+@[^/\s]+:/.test(device);
}

/** Where the fleet reaches a server: its `address`, else its `hostname`. */
export function serverAddress(server: Server): string {
  return server.address ?? server.hostname;
}

/** An IP address in the form NFS and exports(5) want, or undefined for a host name. */
export function ipOf(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const ip = ipaddr.parse(text);
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/** `host:/path` for mount(8): IPv6 literals go in brackets (nfs(5)). */
export function nfsDevice(host: string, path: string): string {
  const ip = ipOf(host);
  return ip?.kind() === 'ipv6' ? `[${ip.toString()}]:${path}` : `${ip?.toString() ?? host}:${path}`;
}

/** Whether `address` lies in `subnet` (CIDR); undefined when either is not an IP or a network. */
export function inSubnet(address: string, subnet: string | undefined): boolean | undefined {
  if (subnet === undefined || !ipaddr.isValidCIDR(subnet)) return undefined;
  const ip = ipOf(address);
  if (!ip) return undefined;
  const [network, bits] = ipaddr.parseCIDR(subnet);
  if (ip.kind() !== network.kind()) return false;
  return ip.kind() === 'ipv4' ? (ip as ipaddr.IPv4).match(network as ipaddr.IPv4, bits) : (ip as ipaddr.IPv6).match(network as ipaddr.IPv6, bits);
}
