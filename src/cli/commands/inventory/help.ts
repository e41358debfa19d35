export const SELECTOR_HELP = [
  'Selectors (--on) pick servers; terms are joined with "," (and), "!" negates a term:',
  '  media-*            server names, with globs (* ? [..] {a,b})',
  '  tag:tv             servers with a tag (globs allowed)',
  '  group:family       members of a group',
  '  role=primary       a field: role, location, hardware_type, profile, health, hostname,',
  '                     address, or label.KEY',
  'Example: --on "tag:tv,!location=attic"',
  '',
  'The inventory file is --file, else $CISTERN_INVENTORY, else ./inventory.yaml.',
].join('\n');
