/**
 * Inventory texts for tests and benchmarks: the original Cistern format as such fleets write it,
 * a richly commented file for byte-exact round trips, and generated fleets of any size.
 */

/** An inventory in the original Cistern format only: must load unchanged and validate. */
export const ORIGINAL_FORMAT = `servers:
  eden:
    hostname: eden
    mac_address: "00:1a:2b:3c:4d:5e"
    hardware_type: generic
    role: primary
    location: "Living Room"
    storage:
      - device: /dev/sda
        mount: /mnt/media
        size: 4TB
      - device: /dev/sdb
        mount: /mnt/backup
        size: 2TB
    services:
      - jellyfin
      - sonarr
      - radarr
      - prowlarr
      - transmission
    notes: "Main media server"
    deployed: true
    last_updated: "2024-01-15"
  rivers:
    hostname: rivers
    mac_address: "00:1a:2b:3c:4d:5f"
    hardware_type: raspberry-pi
    role: secondary
    location: "Bedroom"
    storage:
      - device: /dev/sda1
        mount: /mnt/storage
        size: 1TB
    services:
      - jellyfin
    notes: ""
    deployed: false
    last_updated: null
network:
  subnet: "192.168.1.0/24"
  gateway: "192.168.1.1"
  dns:
    - "192.168.1.1"
    - "8.8.8.8"
  dhcp_range:
    start: "192.168.1.100"
    end: "192.168.1.200"
services:
  jellyfin:
    primary: eden
    replicas:
      - rivers
  sonarr:
    primary: eden
    replicas: []
storage:
  media_root: /mnt/media
  backup_locations:
    - /mnt/backup
  replication:
    enabled: true
    schedule: daily
monitoring:
  prometheus_port: 9090
  grafana_port: 3000
  loki_port: 3100
  alertmanager_port: 9093
`;

/** Comments everywhere, blank lines, odd quoting, flow and block styles, unknown keys. */
export const RICHLY_COMMENTED = `# Fleet inventory — hand-edited, kept in git.
# Second header line.

servers:   # every box we run

  # The living-room box.
  # It runs the TV stack.
  eden:
    hostname: 192.168.1.10      # static lease
    mac_address: 'AA:BB:CC:00:00:10'
    role: primary
    location: "living room"
    tags: [tv,   family]        # odd spacing survives
    services:
    - jellyfin                  # unindented sequence style
    - sonarr

    # storage follows
    storage:
      - device: /dev/sda1
        mount: /mnt/media   # the big disk
        size: 4TB
    custom_field: {keep: me, nested: [1, 2]}   # unknown key, kept
    notes: |
      Block scalar notes,
      two lines.

  rivers:
    hostname: 192.168.1.11
    role: secondary # trailing
    location: attic
    # a comment at the end of rivers

network:
  subnet: 192.168.1.0/24
  gateway: 192.168.1.1

services:
  jellyfin:
    primary: eden
    replicas: [rivers]

monitoring: {prometheus_port: 9090, grafana_port: 3000}

x-unknown-section:
  anything: goes   # kept too
# end of file comment
`;

export interface GeneratedFleetOptions { servers: number; comments?: boolean }

/** A valid inventory of `servers` servers on a /16, with services, groups and templates. */
export function generateInventory({ servers, comments = true }: GeneratedFleetOptions): string {
  const lines: string[] = ['# generated fleet', 'servers:'];
  const apps = ['jellyfin', 'sonarr', 'radarr', 'prowlarr', 'bazarr', 'transmission', 'sabnzbd'];
  const locations = ['attic', 'living-room', 'garage', 'grandma', 'uncle'];
  for (let i = 0; i < servers; i++) {
    const hi = Math.floor(i / 250) + 1;
    const lo = (i % 250) + 1;
    const mac = [0xaa, 0xbb, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0x01].map((b) => b.toString(16).padStart(2, '0')).join(':');
    if (comments) lines.push(`  # server ${i}`);
    lines.push(
      `  media-${i}:`,
      `    hostname: 10.0.${hi}.${lo}`,
      `    mac_address: "${mac}"`,
      `    hardware_type: ${i % 3 === 0 ? 'raspberry-pi' : 'generic'}`,
      `    role: ${i === 0 ? 'primary' : i % 5 === 0 ? 'storage' : 'secondary'}`,
      `    location: ${locations[i % locations.length]}`,
      '    storage:',
      '      - device: /dev/sda1',
      '        mount: /mnt/media',
      `        size: ${1 + (i % 8)}TB`,
      `    services: [${apps[i % apps.length]}, ${apps[(i + 2) % apps.length]}]`,
      `    tags: [${i % 2 === 0 ? 'tv' : 'downloads'}, rack-${i % 10}]`,
      `    deployed: 2024-0${1 + (i % 9)}-1${i % 10}`,
    );
  }
  lines.push(
    'network:', '  subnet: 10.0.0.0/16', '  gateway: 10.0.0.1', '  dns: [10.0.0.1]',
    '  dhcp_range: {start: 10.0.200.1, end: 10.0.250.254}',
    'services:', '  jellyfin:', '    primary: media-0', `    replicas: [${servers > 1 ? 'media-1' : ''}]`,
    'groups:', '  tv:', '    selector: "tag:tv"', '    vars: {greeting: hi}',
    'vars:', '  greeting: hello',
    'templates:', '  motd: "{{ greeting }} from {{ server.name }}"',
  );
  return `${lines.join('\n')}\n`;
}
