/** Options and helpers shared by the `cistern keys` commands. */
import { z } from 'zod';
import { CisternError, usageError } from '../../../errors.js';
import type { Analysis } from '../../../inventory/analyze.js';
import { resolveGroups } from '../../../inventory/groups.js';
import type { SshKey } from '../../../inventory/schema.js';
import { levelKeys, levelName, mergedKeys, type KeyLevel } from '../../../keys/merge.js';
import { keyLine, parsePublicKey } from '../../../keys/public-key.js';
import { didYouMean } from '../../../util/suggest.js';
import { parseDuration } from '../../../util/duration.js';
import type { OptionDef } from '../../command.js';
import { requireServer } from '../inventory/shared.js';

export const levelOptions: OptionDef[] = [
  { flags: '-s, --server <name>', description: 'the key of one server (default: the fleet level)' },
  { flags: '-g, --group <name>', description: 'the key of a group\'s members (default: the fleet level)' },
];

export const levelInput = { server: z.string().optional(), group: z.string().optional() };

export const syncOptions: OptionDef[] = [
  { flags: '-i, --identity <file>', description: 'the admin\'s private key to log in with (default: ssh-agent via $SSH_AUTH_SOCK)' },
  { flags: '--timeout <duration>', description: 'per server, from connecting to done, e.g. 10s', default: '10s' },
  { flags: '--concurrency <n>', description: 'servers updated at once', default: '8' },
  { flags: '--via <how>', description: 'auto (the agent where it is connected, else SSH), agent or ssh', default: 'auto' },
];

export const syncInput = {
  identity: z.string().optional(),
  timeout: z.string().transform((t, c) => parseDuration(t) ?? (c.addIssue({ code: 'custom', message: `"${t}" is not a duration like 500ms or 10s` }), z.NEVER)),
  concurrency: z.coerce.number().int().min(1).max(256),
  via: z.enum(['auto', 'agent', 'ssh'], { error: 'auto, agent or ssh' }),
};

export const SYNC_HELP = [
  'A sync installs each server\'s merged keys in the block between "# BEGIN cistern managed keys"',
  'and "# END cistern managed keys" of its deploy user\'s ~/.ssh/authorized_keys (ssh.user,',
  'default root); every other line is kept byte for byte. Exits 0 only when every server succeeded.',
  '',
  '--via picks the way there. auto (the default) asks the controller (the one `cistern up` or',
  '`cistern controller` configured) which agents are connected and uses the agent for those, SSH',
  'for the rest, such as a new box being bootstrapped; without a configured controller (or with',
  'one that does not answer, which it warns about) every server goes over SSH. agent and ssh force',
  'one way: with agent, a server whose agent is not connected fails with E_AGENT_OFFLINE. The VIA',
  'column (`via` in --json) says which way each server went.',
  '',
  'Through the agent: the agent, running as root, writes the file itself for the user found in',
  'its /etc/passwd, creating ~/.ssh (0700) and the file (0600) owned by the user. It never follows',
  'a symbolic link at ~/.ssh or authorized_keys. No SSH login, no --identity and no host key pin',
  'are needed: the agent\'s connection is authenticated by the controller\'s CA.',
  '',
  'Over SSH: Cistern logs in as the deploy user (ssh.port, default 22) with --identity or',
  'ssh-agent. The first host key a server shows is pinned in cistern\'s own known_hosts',
  '(~/.config/cistern/known_hosts); a different key later stops that server with',
  'E_HOST_KEY_CHANGED.',
].join('\n');

export function levelFrom(input: { server?: string | undefined; group?: string | undefined }): KeyLevel {
  if (input.server !== undefined && input.group !== undefined) throw usageError('give --server or --group, not both');
  if (input.server !== undefined) return { kind: 'server', name: input.server };
  if (input.group !== undefined) return { kind: 'group', name: input.group };
  return { kind: 'fleet' };
}

/** Checks that the level's server or group exists. */
export function requireLevel(analysis: Analysis, level: KeyLevel): void {
  if (level.kind === 'server') requireServer(analysis, level.name);
  if (level.kind === 'group' && analysis.inventory.groups?.[level.name] === undefined) {
    const names = Object.keys(analysis.inventory.groups ?? {});
    throw new CisternError('E_GROUP_NOT_FOUND', `no group named "${level.name}" in ${analysis.file}`, {
      hint: didYouMean(level.name, names) ?? (names.length ? `groups: ${names.join(', ')}` : 'the inventory has no groups; define one under groups:'),
    });
  }
}

/** A --key value checked and normalized, or a usage error naming what is wrong. */
export function checkedKey(text: string): string {
  const parsed = parsePublicKey(text);
  if (!parsed.ok) throw usageError(`--key: not an OpenSSH public key: ${parsed.reason}`, 'give the whole line of the .pub file, quoted: --key "$(cat ~/.ssh/id_ed25519.pub)"');
  return keyLine(parsed.key);
}

/** The raw `ssh_keys` list of a level in inventory data, created when `create`. */
export function rawLevelKeys(data: Record<string, unknown>, level: KeyLevel, create: boolean): Record<string, unknown>[] | undefined {
  let holder: Record<string, unknown> = data;
  if (level.kind !== 'fleet') {
    const section = level.kind === 'server' ? 'servers' : 'groups';
    const map = data[section] as Record<string, unknown> | undefined;
    if (!map || typeof map !== 'object') return undefined;
    if (map[level.name] === null || map[level.name] === undefined) {
      if (!create) return undefined;
      map[level.name] = {};
    }
    holder = map[level.name] as Record<string, unknown>;
  }
  if (!Array.isArray(holder.ssh_keys)) {
    if (!create) return undefined;
    holder.ssh_keys = [];
  }
  return holder.ssh_keys as Record<string, unknown>[];
}

/** Removes an emptied `ssh_keys:` list, so the file does not keep `ssh_keys: []`. */
export function dropEmptyKeys(data: Record<string, unknown>, level: KeyLevel): void {
  const holder = level.kind === 'fleet' ? data : (data[level.kind === 'server' ? 'servers' : 'groups'] as Record<string, Record<string, unknown>>)[level.name];
  if (holder && Array.isArray(holder.ssh_keys) && holder.ssh_keys.length === 0) delete holder.ssh_keys;
}

/** Where else a key name is defined, for the hint of a "not found". */
export function whereDefined(analysis: Analysis, name: string): string[] {
  const inventory = analysis.inventory;
  const levels: KeyLevel[] = [
    { kind: 'fleet' },
    ...Object.keys(inventory.groups ?? {}).map((g): KeyLevel => ({ kind: 'group', name: g })),
    ...Object.keys(inventory.servers ?? {}).map((s): KeyLevel => ({ kind: 'server', name: s })),
  ];
  return levels.filter((level) => levelKeys(inventory, level).some((k: SshKey) => k.name === name)).map(levelName);
}

export function notFound(analysis: Analysis, name: string, level: KeyLevel): CisternError {
  const elsewhere = whereDefined(analysis, name);
  const flag = (where: string) => (where === 'fleet' ? 'no --server or --group' : where.replace(/^(server|group):/, '--$1 '));
  return new CisternError('E_KEY_NOT_FOUND', `no key named "${name}" at the ${levelName(level)} level in ${analysis.file}`, {
    hint: elsewhere.length
      ? `"${name}" is defined at ${elsewhere.join(', ')}: pass ${elsewhere.map(flag).join(' or ')}`
      : didYouMean(name, allKeyNames(analysis)) ?? 'see `cistern keys list`',
  });
}

function allKeyNames(analysis: Analysis): string[] {
  const resolution = resolveGroups(analysis.inventory);
  const names = new Set<string>((analysis.inventory.ssh_keys ?? []).map((k) => k.name));
  for (const server of Object.keys(analysis.inventory.servers ?? {})) for (const k of mergedKeys(analysis.inventory, server, resolution)) names.add(k.name);
  return [...names];
}
