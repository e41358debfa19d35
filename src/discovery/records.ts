/**
 * What Cistern puts in DNS-SD (RFC 6763) and what it reads back: the service types, instance
 * names, and the TXT records of agents (`_cistern._tcp`) and controllers
 * (`_cistern-controller._tcp`). TXT values are untrusted text from the network: they are parsed
 * here with limits and never used for trust decisions on their own (the CA pin and the age key
 * are what is checked).
 */
import { createHash } from 'node:crypto';

export const AGENT_SERVICE = 'cistern';
export const CONTROLLER_SERVICE = 'cistern-controller';
/** The agent's own HTTP port (metrics), given in its SRV record. */
export const AGENT_PORT = 9810;
/** RFC 6763 §6.1: keep the whole TXT record small enough for one packet. */
const MAX_TXT_VALUE = 200;

export interface AgentAdvert {
  /** The agent id once registered; empty while the box waits to be approved or provisioned. */
  id: string;
  name: string;
  version: string;
  profile: string;
  /** `sha256:` + hex of the box's age recipient, the key an approved credential is sealed to. */
  fingerprint: string;
  /** A one-line facts summary, e.g. "x64, 4 cores, 7.8 GiB, 512 GB disk". */
  hardware: string;
}

export interface ControllerAdvert {
  caFingerprint: string;
  version: string;
}

/** The age recipient's fingerprint: what the admin compares between the box and `cistern discover`. */
export function keyFingerprint(ageRecipient: string): string {
  return `sha256:${createHash('sha256').update(ageRecipient).digest('hex')}`;
}

/** The first 64 bits in four groups, short enough to read aloud: `3f2a-91bc-0d44-7e19`. */
export function shortFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/^sha256:/, '').slice(0, 16);
  return hex.match(/.{1,4}/g)?.join('-') ?? hex;
}

/** DNS-SD instance names are free text up to 63 bytes; the fingerprint keeps two boxes of one name apart. */
export function agentInstanceName(name: string, fingerprint: string): string {
  // No dots: DNS-SD allows them in instance names, but browsers split on them.
  return `${name.replaceAll('.', '-').slice(0, 40)} [${shortFingerprint(fingerprint).slice(0, 9)}]`;
}

/** Empty values are left out: some mDNS stacks cannot decode `key=` (bonjour-service reads it as a key named "key="). */
export function agentTxt(advert: AgentAdvert): Record<string, string> {
  const all = { id: advert.id, name: advert.name, v: advert.version, profile: advert.profile, fp: advert.fingerprint, hw: advert.hardware };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== ''));
}

export function controllerTxt(advert: ControllerAdvert): Record<string, string> {
  return { ca: advert.caFingerprint, v: advert.version, proto: '1' };
}

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

function text(txt: Record<string, unknown>, key: string): string {
  const value = txt[key];
  const s = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : '';
  // Printable text only: these values end up in terminals.
  return s.slice(0, MAX_TXT_VALUE).replace(/[^\x20-\x7e]/g, '?');
}

/** Undefined unless the record carries a well-formed fingerprint: without one it is not a Cistern agent. */
export function parseAgentTxt(txt: Record<string, unknown> | undefined): AgentAdvert | undefined {
  if (!txt) return undefined;
  const fingerprint = text(txt, 'fp').toLowerCase();
  if (!FINGERPRINT.test(fingerprint)) return undefined;
  return { id: text(txt, 'id'), name: text(txt, 'name'), version: text(txt, 'v'), profile: text(txt, 'profile'), fingerprint, hardware: text(txt, 'hw') };
}

export function parseControllerTxt(txt: Record<string, unknown> | undefined): ControllerAdvert | undefined {
  if (!txt) return undefined;
  const caFingerprint = text(txt, 'ca').toLowerCase();
  if (!FINGERPRINT.test(caFingerprint)) return undefined;
  return { caFingerprint, version: text(txt, 'v') };
}

/** "x64, 4 cores, 7.8 GiB, 512 GB disk" from facts as the agent collects them; unknown parts are left out. */
export function hardwareSummary(facts: { architecture?: string; cpu?: { cores?: number | null; threads?: number | null }; memory?: { totalBytes?: number | null }; disks?: { device?: string; disk?: string | null; fsType?: string | null; sizeBytes?: number | null }[] }): string {
  const parts: string[] = [];
  if (facts.architecture) parts.push(facts.architecture);
  const cores = facts.cpu?.cores ?? facts.cpu?.threads;
  if (cores) parts.push(`${cores} cores`);
  if (facts.memory?.totalBytes) parts.push(`${(facts.memory.totalBytes / 2 ** 30).toFixed(1)} GiB`);
  // Whole disks when the facts have them, so partitions are not counted twice.
  const disks = facts.disks ?? [];
  const whole = disks.filter((d) => d.disk === d.device);
  const counted = whole.length > 0 ? whole : disks.filter((d) => d.fsType !== 'tmpfs');
  const disk = counted.reduce((sum, d) => sum + (d.sizeBytes ?? 0), 0);
  if (disk > 0) parts.push(`${Math.round(disk / 1e9)} GB disk`);
  return parts.join(', ');
}
