/**
 * The names an agent's metrics certificate covers: every address Prometheus may be sent to for
 * it (the inventory's address and hostname, the addresses in its facts, the address its listener
 * is bound to) and its host name. Pure; the controller decides, never the agent alone.
 */

export interface CertNames { dnsNames: string[]; ips: string[] }

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
const HOST_LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const WILDCARD = new Set(['0.0.0.0', '::']);

function hostName(text: string): boolean {
  const name = text.replace(/\.$/, '');
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => HOST_LABEL.test(label));
}

/** Candidate host names and addresses in; junk (empty, wildcards, link-local, malformed) is dropped. */
export function agentCertNames(candidates: readonly (string | null | undefined)[]): CertNames {
  const dnsNames = new Set<string>();
  const ips = new Set<string>();
  for (const raw of candidates) {
    if (!raw) continue;
    const text = raw.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    if (WILDCARD.has(text)) continue;
    if (IPV4.test(text)) ips.add(text);
    else if (text.includes(':') && IPV6.test(text)) {
      if (!/^fe80:/i.test(text)) ips.add(text.toLowerCase());
    } else if (hostName(text)) dnsNames.add(text.replace(/\.$/, '').toLowerCase());
  }
  return { dnsNames: [...dnsNames], ips: [...ips] };
}

/** Order-free identity of a name set: a certificate is re-issued when it changes. */
export function namesKey(names: CertNames): string {
  return [...names.dnsNames.map((n) => `dns:${n}`), ...names.ips.map((ip) => `ip:${ip}`)].sort().join(',');
}
