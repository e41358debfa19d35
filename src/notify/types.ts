/**
 * The notifier's vocabulary: what it is told (AlertInput), what it keeps (Alert) and what it
 * decides to send (Notification). Event kinds never reach the core; an adapter turns each into
 * inputs (from-events.ts).
 */

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type AlertStatus = 'firing' | 'resolved';

/**
 * The alert names the controller raises (from-events.ts): routes match them, and
 * src/monitoring/shared-alerts.ts pairs them with the Prometheus rules that see the same problem.
 */
export const CONTROLLER_ALERT_NAMES = ['ServerDown', 'ServiceFailed', 'ServiceFailover', 'DeployFailed'] as const;
export type ControllerAlertName = (typeof CONTROLLER_ALERT_NAMES)[number];

/** One alert's state now, as the controller saw it happen. */
export interface AlertInput {
  /** Identity: inputs with one key are one alert, e.g. "ServerDown/alpha". */
  key: string;
  /** Groups alerts: those of one name for one receiver go out together, e.g. "ServerDown". */
  name: string;
  severity: Severity;
  /** One line for people, e.g. "alpha is unreachable: no heartbeat for 15 s". */
  summary: string;
  status: AlertStatus;
  /** Extra labels (server, service); `alertname` and `severity` are added when sent. */
  labels?: Readonly<Record<string, string>>;
  /** A notice (a failover happened): sent once, never repeated, never resolved. */
  once?: boolean;
}

/** An alert as the core keeps it. Times are epoch ms. */
export interface Alert {
  key: string;
  name: string;
  severity: Severity;
  summary: string;
  status: AlertStatus;
  labels: Readonly<Record<string, string>>;
  once: boolean;
  startsAt: number;
  endsAt: number | null;
}

/** One message to one receiver. */
export interface Notification {
  receiver: string;
  at: number;
  /** The alert names (groups) in this message, sorted: one, unless the rate limit merged several. */
  groups: string[];
  /** 'firing' when any alert in it fires. */
  status: AlertStatus;
  /** Firing alerts first (most severe first), then resolved ones; each by key. */
  alerts: Alert[];
  /** Messages the rate limit held back and merged into this one (0 when none). */
  folded: number;
}

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** The order alerts are listed in a message. */
export function compareAlerts(a: Alert, b: Alert): number {
  if (a.status !== b.status) return a.status === 'firing' ? -1 : 1;
  return RANK[a.severity] - RANK[b.severity] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
