/**
 * Service names Cistern knows without a definition in the inventory: the media stack (ports
 * from ../shared/MEDIA-STACK.md, each app's documented default) and the monitoring stack the
 * original Cistern deploys. A name outside this list must be declared under `services:` with a
 * `port` or `probe` to be a custom service.
 */
export const KNOWN_SERVICES: Readonly<Record<string, { port: number; kind: 'media' | 'monitoring' | 'infra' }>> = {
  jellyfin: { port: 8096, kind: 'media' },
  sonarr: { port: 8989, kind: 'media' },
  radarr: { port: 7878, kind: 'media' },
  prowlarr: { port: 9696, kind: 'media' },
  bazarr: { port: 6767, kind: 'media' },
  transmission: { port: 9091, kind: 'media' },
  sabnzbd: { port: 8080, kind: 'media' },
  jellyseerr: { port: 5055, kind: 'media' },
  prometheus: { port: 9090, kind: 'monitoring' },
  grafana: { port: 3000, kind: 'monitoring' },
  loki: { port: 3100, kind: 'monitoring' },
  alertmanager: { port: 9093, kind: 'monitoring' },
  'node-exporter': { port: 9100, kind: 'monitoring' },
  promtail: { port: 9080, kind: 'monitoring' },
  nginx: { port: 80, kind: 'infra' },
};

export function isKnownService(name: string): boolean {
  return Object.hasOwn(KNOWN_SERVICES, name);
}
