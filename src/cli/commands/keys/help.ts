export const KEYS_HELP = [
  'Keys live in inventory.yaml under ssh_keys: at the fleet level (top level), in a group',
  '(groups.NAME.ssh_keys) and in a server (servers.NAME.ssh_keys), each {name, key}. A server',
  'gets the fleet keys, then its groups\' keys (by priority, then name), then its own; a key name',
  'at a more specific level replaces the same name from a lower one.',
  '',
  'add, remove and rotate --no-sync edit inventory.yaml; sync (and rotate) install the merged keys',
  'in a marked block of each server\'s ~/.ssh/authorized_keys, leaving every other line: through',
  'the server\'s agent where it is connected to the controller, over SSH otherwise (--via).',
].join('\n');
