/**
 * Cross-field rules: what the schema cannot see alone (references between sections, duplicates,
 * addresses against the subnet). Pure: an inventory value in, findings out. Runs on a salvaged
 * value when the schema found errors, so every problem is reported in one pass.
 */
import ipaddr from 'ipaddr.js';
import { CisternError } from '../errors.js';
import { CATALOG, isCatalogService } from '../services/catalog.js';
import { KNOWN_SERVICES, isKnownService } from '../services/known.js';
import { didYouMean } from '../util/suggest.js';
import type { FindingInput } from './findings.js';
import { serverEntries } from './groups.js';
import type { Inventory } from './schema.js';
import { parseSelector } from './selector.js';
import { monitoringRules } from '../monitoring/inventory-rules.js';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

function parseIp(text: string | undefined): Ip | undefined {
  if (text === undefined || !ipaddr.isValid(text)) return undefined;
  const ip = ipaddr.parse(text);
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

function compareIp(a: Ip, b: Ip): number {
  const x = a.toByteArray();
  const y = b.toByteArray();
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function inSubnet(ip: Ip, subnet: [Ip, number]): boolean {
  return ip.kind() === subnet[0].kind() && ip.match(subnet as [ipaddr.IPv4, number]);
}

export function checkRules(inventory: Inventory): FindingInput[] {
  const findings: FindingInput[] = [];
  const servers = serverEntries(inventory);
  const serverNames = new Set(servers.map(([name]) => name));
  const declared = Object.entries(inventory.services ?? {});
  const customServices = new Set(declared
    .filter(([name, def]) => !isCatalogService(name) && (def?.port !== undefined || def?.probe !== undefined))
    .map(([name]) => name));
  const serviceNames = new Set([...Object.keys(KNOWN_SERVICES), ...customServices]);
  const serverHint = (name: string) => didYouMean(name, serverNames);

  // Services named on servers must be known or declared.
  for (const [name, server] of servers) {
    server.services?.forEach((service, index) => {
      if (serviceNames.has(service)) return;
      findings.push({
        severity: 'error', code: 'unknown-service', path: ['servers', name, 'services', index],
        message: `unknown service "${service}"`, found: JSON.stringify(service), expected: 'a known service or one declared under services: with a port or probe',
        hint: didYouMean(service, serviceNames),
      });
    });
  }

  // Services: a name outside the catalog is a custom service and must say how to reach it.
  for (const [service, def] of declared) {
    if (!isKnownService(service) && !customServices.has(service)) {
      findings.push({
        severity: 'error', code: 'custom-service-without-probe', path: ['services', service],
        message: `custom service "${service}" has no port or probe, so Cistern cannot check it`,
        expected: 'a `port:` (probed over TCP) or a `probe:` (http, tcp or command)',
        hint: didYouMean(service, Object.keys(KNOWN_SERVICES)) ?? 'add `port: N`, or `probe: {kind: http, path: /health}` with a port',
      });
    }
    if (!def) continue;
    const probe = def.probe;
    if (customServices.has(service) && def.port === undefined && probe && probe.kind !== 'command' && probe.port === undefined) {
      findings.push({
        severity: 'error', code: 'probe-without-port', path: ['services', service, 'probe'],
        message: `the ${probe.kind} probe of custom service "${service}" has no port to reach`,
        expected: 'a `port:` on the service or on its probe',
      });
    }
    // A relative key file lives in the state directory: without one the agent finds no key.
    const base = CATALOG.find((c) => c.name === service);
    const keySource = def.key_source === undefined ? base?.key_source : def.key_source;
    const stateDir = def.state_dir === undefined ? (base?.state_dir ?? null) : def.state_dir;
    if (keySource && !keySource.file.startsWith('/') && stateDir === null) {
      findings.push({
        severity: 'warning', code: 'key-source-without-state-dir', path: ['services', service, def.key_source === undefined ? 'state_dir' : 'key_source'],
        message: `the key file "${keySource.file}" of ${service} is relative to its state_dir, which is null: the agent will find no key there`,
        expected: 'an absolute key_source.file, or a state_dir',
        hint: 'or give the key in the agent\'s --service-keys file',
      });
    }
    for (const key of ['on', 'not_on'] as const) {
      const text = def[key];
      if (text === undefined) continue;
      try {
        parseSelector(text);
      } catch (error) {
        if (!(error instanceof CisternError)) throw error;
        findings.push({ severity: 'error', code: 'invalid-selector', path: ['services', service, key], message: error.message.split('\n')[0] ?? error.message, found: JSON.stringify(text), expected: 'a selector, as with --on' });
      }
    }
    if (def.primary !== undefined && !serverNames.has(def.primary)) {
      findings.push({ severity: 'error', code: 'unknown-server', path: ['services', service, 'primary'], message: `primary "${def.primary}" is not a server`, found: JSON.stringify(def.primary), expected: 'a name under servers:', hint: serverHint(def.primary) });
    }
    const seen = new Set<string>();
    // `replicas` is either the original format's list of servers or a count for placement.
    if (Array.isArray(def.replicas)) def.replicas.forEach((replica, index) => {
      const path = ['services', service, 'replicas', index];
      if (replica === def.primary) findings.push({ severity: 'error', code: 'replica-is-primary', path, message: `replica "${replica}" is also the primary of ${service}`, expected: 'replicas on other servers than the primary' });
      else if (!serverNames.has(replica)) findings.push({ severity: 'error', code: 'unknown-server', path, message: `replica "${replica}" is not a server`, found: JSON.stringify(replica), expected: 'a name under servers:', hint: serverHint(replica) });
      if (seen.has(replica)) findings.push({ severity: 'error', code: 'duplicate-replica', path, message: `replica "${replica}" is listed twice` });
      seen.add(replica);
    });
  }

  // Duplicates across servers: host names, effective addresses, MAC addresses.
  const firstSeen = new Map<string, string>();
  const LABEL: Record<string, string> = { hostname: 'host name', address: 'address', mac: 'MAC address' };
  const duplicate = (kind: string, key: string, name: string, path: (string | number)[], shown: string) => {
    const previous = firstSeen.get(`${kind}\0${key}`);
    if (previous === undefined) firstSeen.set(`${kind}\0${key}`, name);
    else findings.push({ severity: 'error', code: `duplicate-${kind}`, path, message: `${LABEL[kind] ?? kind} ${shown} is already used by server "${previous}"` });
  };
  for (const [name, server] of servers) {
    duplicate('hostname', server.hostname.toLowerCase(), name, ['servers', name, 'hostname'], JSON.stringify(server.hostname));
    // Boxes behind one NAT share an address and differ by SSH port: the pair must be unique.
    const address = server.address ?? server.hostname;
    if (address.toLowerCase() !== server.hostname.toLowerCase() || parseIp(address)) {
      const key = `${parseIp(address)?.toNormalizedString() ?? address.toLowerCase()} port ${server.ssh?.port ?? 22}`;
      const shown = server.ssh?.port === undefined ? JSON.stringify(address) : `${JSON.stringify(address)} with SSH port ${server.ssh.port}`;
      duplicate('address', key, name, ['servers', name, server.address !== undefined ? 'address' : 'hostname'], shown);
    }
    if (server.mac_address !== undefined) duplicate('mac', server.mac_address.toLowerCase(), name, ['servers', name, 'mac_address'], server.mac_address);
    // Storage mounts used twice on one server.
    const mounts = new Map<string, number>();
    server.storage?.forEach((device, index) => {
      const mount = device.mount.replace(/\/+$/, '') || '/';
      const first = mounts.get(mount);
      if (first !== undefined) findings.push({ severity: 'error', code: 'duplicate-mount', path: ['servers', name, 'storage', index, 'mount'], message: `mount ${device.mount} is already used by storage[${first}] on this server` });
      else mounts.set(mount, index);
    });
  }

  findings.push(...networkRules(inventory, servers));
  findings.push(...monitoringRules(inventory));
  return findings;
}

function networkRules(inventory: Inventory, servers: ReturnType<typeof serverEntries>): FindingInput[] {
  const findings: FindingInput[] = [];
  const network = inventory.network;
  if (network?.subnet === undefined || !ipaddr.isValidCIDR(network.subnet)) return findings;
  const subnet = ipaddr.parseCIDR(network.subnet) as [Ip, number];
  const outside = (text: string | undefined, path: (string | number)[], what: string) => {
    const ip = parseIp(text);
    if (ip && !inSubnet(ip, subnet)) {
      findings.push({ severity: 'error', code: 'outside-subnet', path, message: `${what} ${text} is outside network.subnet ${network.subnet}`, found: text, expected: `an address in ${network.subnet}` });
    }
    return ip;
  };
  outside(network.gateway, ['network', 'gateway'], 'gateway');
  const start = outside(network.dhcp_range?.start, ['network', 'dhcp_range', 'start'], 'DHCP range start');
  const end = outside(network.dhcp_range?.end, ['network', 'dhcp_range', 'end'], 'DHCP range end');
  if (start && end && start.kind() === end.kind() && compareIp(start, end) > 0) {
    findings.push({ severity: 'error', code: 'dhcp-range-reversed', path: ['network', 'dhcp_range'], message: `DHCP range starts at ${network.dhcp_range?.start}, after its end ${network.dhcp_range?.end}` });
  }
  for (const [name, server] of servers) {
    const field = server.address !== undefined ? 'address' : 'hostname';
    const text = server.address ?? server.hostname;
    const ip = outside(text, ['servers', name, field], `address`);
    if (ip && start && end && ip.kind() === start.kind() && compareIp(ip, start) >= 0 && compareIp(ip, end) <= 0) {
      findings.push({ severity: 'warning', code: 'address-in-dhcp-range', path: ['servers', name, field], message: `address ${text} lies inside the DHCP range; the DHCP server may hand it to another box`, hint: 'give the server a reservation or an address outside dhcp_range' });
    }
  }
  return findings;
}
