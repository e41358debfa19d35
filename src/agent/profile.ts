/**
 * Which hardware profile a box gets: a pure, ordered rule table over its facts. The first rule
 * that matches wins, so the order encodes preference — a Pi is a Pi even with a render node,
 * and a discrete NVIDIA card beats the Intel iGPU next to it. Every decision carries a reason
 * a person can check against the box.
 */
import { HARDWARE_PROFILES } from '../inventory/schema.js';
import type { Facts, GpuFact } from './facts-schema.js';
import { storageReason, summarizeStorage } from './storage.js';

export type HardwareProfile = Exclude<(typeof HARDWARE_PROFILES)[number], 'auto'>;

export interface ProfileDecision {
  profile: HardwareProfile;
  storageHeavy: boolean;
  reason: string;
}

interface Rule {
  profile: HardwareProfile;
  test: (facts: Facts) => boolean;
  reason: (facts: Facts) => string;
}

const gpu = (facts: Facts, vendor: GpuFact['vendor'], needsNode: boolean): GpuFact | undefined =>
  facts.gpus.find((g) => g.vendor === vendor && (!needsNode || g.renderNode !== null));
const describe = (g: GpuFact | undefined): string => (g ? `${g.model}, ${g.renderNode ?? 'no render node'}` : 'no GPU');

const FALLBACK: Rule = { profile: 'generic', test: () => true, reason: genericReason };

export const PROFILE_RULES: readonly Rule[] = [
  {
    profile: 'raspberry-pi',
    test: (f) => f.deviceModel?.startsWith('Raspberry Pi') ?? false,
    reason: (f) => `raspberry-pi: ${f.deviceModel ?? ''}`,
  },
  {
    // NVENC needs the proprietary driver; with nouveau the card is no use for transcoding.
    profile: 'nvidia',
    test: (f) => gpu(f, 'nvidia', false) !== undefined && f.transcoding.nvenc,
    reason: (f) => `nvidia: ${gpu(f, 'nvidia', false)?.model ?? 'NVIDIA GPU'}, NVENC`,
  },
  {
    profile: 'intel-quicksync',
    test: (f) => gpu(f, 'intel', true) !== undefined,
    reason: (f) => `intel-quicksync: ${describe(gpu(f, 'intel', true))}`,
  },
  {
    profile: 'amd-vaapi',
    test: (f) => gpu(f, 'amd', true) !== undefined,
    reason: (f) => `amd-vaapi: ${describe(gpu(f, 'amd', true))}`,
  },
  FALLBACK,
];

function genericReason(facts: Facts): string {
  const nvidia = gpu(facts, 'nvidia', false);
  if (nvidia) return `generic: ${nvidia.model} but no NVIDIA driver loaded (no /proc/driver/nvidia or /dev/nvidia0), so no NVENC`;
  if (facts.gpus.length === 0) return 'generic: no GPU with a render node';
  const found = facts.gpus.map(describe).join('; ');
  // A render node alone is not enough: the Pi's v3d or a VM's virtio-gpu has one but no encoder.
  return facts.gpus.some((g) => g.renderNode !== null)
    ? `generic: no Intel, AMD or NVIDIA GPU with a render node (found ${found})`
    : `generic: no GPU with a render node (found ${found})`;
}

export function detectProfile(facts: Facts): ProfileDecision {
  const rule = PROFILE_RULES.find((r) => r.test(facts)) ?? FALLBACK;
  return withStorage(rule.profile, rule.reason(facts), facts);
}

function withStorage(profile: HardwareProfile, reason: string, facts: Facts | undefined): ProfileDecision {
  const storage = facts ? summarizeStorage(facts.disks) : undefined;
  if (!storage?.heavy) return { profile, storageHeavy: false, reason };
  return { profile, storageHeavy: true, reason: `${reason}; ${storageReason(storage)}` };
}

const isProfile = (value: string): value is HardwareProfile => value !== 'auto' && (HARDWARE_PROFILES as readonly string[]).includes(value);

/**
 * The profile a server runs with: what the inventory says, when it says something, else what
 * its facts show. `hardware_profile: auto` (or none) means detect. A value the schema does not
 * know is ignored here; inventory validation reports it.
 */
export function effectiveProfile(
  server: { hardware_type?: string | undefined; hardware_profile?: string | undefined },
  facts: Facts | undefined,
): ProfileDecision {
  const set = server.hardware_profile;
  if (set !== undefined && set !== 'auto' && isProfile(set)) {
    return withStorage(set, `${set}: set in inventory (hardware_profile)`, facts);
  }
  if (server.hardware_type === 'raspberry-pi') {
    return withStorage('raspberry-pi', 'raspberry-pi: set in inventory (hardware_type)', facts);
  }
  if (!facts) return { profile: 'generic', storageHeavy: false, reason: 'generic: no facts yet' };
  return detectProfile(facts);
}
