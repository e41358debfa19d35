/**
 * The controller's own alert notifications (server down, service failed, failover, deploy
 * failure) to the inventory's `monitoring.receivers`: deduplicated, grouped, rate-limited, with a
 * resolved message when a problem ends. See docs/notifications.md.
 */
export { Notifier, type NotifierOptions } from './notifier.js';
export { DEFAULT_POLICY, emptyState, nextDeadline, step, type EngineConfig, type NotifyPolicy, type NotifyState, type StepResult, type Target } from './engine.js';
export { EVENT_MAPPINGS, alertsFromEvent, type EventMapping } from './from-events.js';
export { notifyConfig, router, type Integration, type NotifyConfig, type ReceiverConfig, type RouteConfig } from './receivers.js';
export { DEFAULT_DELIVERY, send, type Delivery, type SendContext, type SendResult } from './send.js';
export type { Alert, AlertInput, AlertStatus, Notification, Severity } from './types.js';
