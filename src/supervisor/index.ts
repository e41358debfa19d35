/**
 * Supervision of the services placed on a box, as pure decisions: the per-service probe and
 * restart state machine and its policy. The agent's shell (src/agent/supervision/) runs the
 * probes and drivers it asks for.
 */
export {
  initialState, report, step, wakeAt, REPORTED_STATES,
  type Action, type DriverAction, type ReportedState, type ServiceEvent, type ServiceState, type Step, type SupervisorEvent,
} from './machine.js';
export { statusChanged, statusDue, type StatusReport, type StatusTiming } from './status.js';
export { DEFAULT_POLICY, inWindow, policyFrom, restartDelay, supervisionSchema, type Policy, type Supervision } from './policy.js';
export {
  desiredServiceSchema, SET_SERVICES, setServicesArgsSchema,
  type DesiredServiceArgs, type SetServicesArgs, type SetServicesResult,
} from './set-services.js';
