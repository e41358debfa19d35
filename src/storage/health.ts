/**
 * Mount health as placement reads it. The agent reports each probed path (protocol/messages.ts
 * `MountHealth`); placement wants, per server, `{ path, healthy }` for its `mounts`, and a
 * service that needs media asks for the media root through `affinity.mount`. Pure.
 */
import type { MountHealth } from '../protocol/messages.js';
import type { ResolvedService } from '../services/resolve.js';
import { normalizePath } from './paths.js';

/** `PlacementServer.mounts` from a server's latest report; undefined (no report yet) gives no mounts. */
export function placementMounts(reports: readonly MountHealth[] | undefined): { path: string; healthy: boolean }[] {
  return (reports ?? []).map((r) => ({ path: r.path, healthy: r.healthy }));
}

/**
 * The mount a service needs healthy wherever it runs: the media root (normalized, as agents
 * report paths) for services with `needs.media`.
 */
export function requiredMount(service: Pick<ResolvedService, 'needs'>, mediaRoot: string | null | undefined): string | undefined {
  if (service.needs.media !== true || !mediaRoot) return undefined;
  return normalizePath(mediaRoot);
}

/** A line for people about an unhealthy mount: "/mnt/media stale (ESTALE: ...)". */
export function describeMount(report: MountHealth): string {
  const space = report.totalBytes ? `, ${formatBytes(report.freeBytes ?? 0)} free of ${formatBytes(report.totalBytes)}` : '';
  const what = report.source ? ` (${report.source}${report.fsType ? `, ${report.fsType}` : ''})` : '';
  return `${report.path}${what}: ${report.state}${report.detail && !report.healthy ? ` — ${report.detail}` : ''}${space}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
