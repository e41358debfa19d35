/**
 * The problems that both the controller's notifier (src/notify) and the generated Prometheus
 * rules (rules.ts) raise, and which of the two notifies them: `monitoring.notifications_from`.
 * Run side by side, each would otherwise tell a receiver of the same problem once. This table is
 * the only place the pairing is written: the alertmanager.yml generator silences its side of a
 * pair, the notifier mutes its own, and tests check that every alert of either side is either
 * paired here or known to one side only. Pure.
 */
import type { ControllerAlertName } from '../notify/types.js';
import type { NotificationsFrom } from './config-schema.js';
import { ALERT_NAMES, type AlertName } from './rules.js';

export interface SharedAlert {
  controller: ControllerAlertName;
  prometheus: AlertName;
  /** What each side sees of the problem, for docs/notifications.md and the reader. */
  coverage: string;
}

export const SHARED_ALERTS: readonly SharedAlert[] = [
  {
    controller: 'ServerDown', prometheus: 'ServerDown',
    coverage: 'both read the controller\'s heartbeat record: the controller at unreachable (the TTL) and down, Prometheus after server_down_after',
  },
  {
    controller: 'ServiceFailed', prometheus: 'ServiceDown',
    coverage: 'both see the agent\'s probe verdict failed or misconfigured; ServiceDown also fires while the agent is still restarting '
      + '(unhealthy for 2m), and when the service\'s own metrics endpoint or its exportarr is down',
  },
  {
    controller: 'ServiceFailover', prometheus: 'FailoverHappened',
    coverage: 'both count the controller\'s failovers: the controller as it moves the service, Prometheus from cistern_failovers_total',
  },
];

/** What no Prometheus rule sees: a deploy is an event, not a metric. */
export const CONTROLLER_ONLY: readonly ControllerAlertName[] = ['DeployFailed'];

/** What the controller has no event for: disks, temperatures, restart loops, backups, certificates, lag. */
export const PROMETHEUS_ONLY: readonly AlertName[] = ALERT_NAMES.filter((name) => !SHARED_ALERTS.some((s) => s.prometheus === name));

/** The controller's alerts it leaves to Alertmanager under `from`: it does not send them. */
export function controllerMuted(from: NotificationsFrom): ControllerAlertName[] {
  return from === 'alertmanager' ? SHARED_ALERTS.map((s) => s.controller) : [];
}

/** The Prometheus alerts Alertmanager leaves to the controller under `from`: it shows them, sends nothing. */
export function alertmanagerSilenced(from: NotificationsFrom): AlertName[] {
  return from === 'controller' ? SHARED_ALERTS.map((s) => s.prometheus) : [];
}

/** One line for people: who tells the receivers of the shared alerts under `from`. */
export function whoNotifies(from: NotificationsFrom): string {
  const names = SHARED_ALERTS.map((s) => s.prometheus).join(', ');
  switch (from) {
    case 'controller': return `${names}: notified by the Cistern controller; Alertmanager shows them and sends them nowhere (monitoring.notifications_from: controller)`;
    case 'alertmanager': return `${names}: notified by Alertmanager; the controller keeps quiet about them (monitoring.notifications_from: alertmanager)`;
    case 'both': return `${names}: notified by Alertmanager and by the controller, so twice (monitoring.notifications_from: both)`;
  }
}
