/**
 * Supervision on the agent: the supervisor with the agent's drivers, the `set-services` command,
 * and the choice of default driver. The decisions are in src/supervisor/ (pure).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CisternError } from '../../errors.js';
import { setServicesArgsSchema, type SetServicesResult } from '../../supervisor/index.js';
import type { ServiceDefinition } from '../../services/schema.js';
import type { Logger } from '../../util/logger.js';
import type { DriverKind, ServiceDriver } from './driver.js';
import type { SupervisorMetricsSink } from './metrics.js';
import { ProcessDriver } from './process-driver.js';
import { Supervisor, type DesiredService, type SupervisorRecord } from './supervisor.js';
import { systemdDriver } from './systemd-driver.js';
import type { KeyStore } from '../service-keys/index.js';

export { DRIVER_KINDS, type DriverKind, type DriverStatus, type ServiceDriver } from './driver.js';
export { SupervisorMetrics, PROBE_BUCKETS, type ServiceMetrics, type SupervisorMetricsSink } from './metrics.js';
export { ProcessDriver, type ProcessSpec } from './process-driver.js';
export { runProbe, type ProbeCredential, type ProbeRunner, type ProbeTarget } from './probe-runner.js';
export { Supervisor, type DesiredService, type SupervisorOptions, type SupervisorRecord } from './supervisor.js';
export { redact, runStatusProbe } from './status-probe.js';
export { parseSystemctlShow, systemdDriver, unitStatus } from './systemd-driver.js';

/** systemd when this box runs it (the check `sd_booted` makes), else the process driver. */
export function defaultServiceDriver(systemdDir = '/run/systemd/system'): DriverKind {
  return existsSync(systemdDir) ? 'systemd' : 'process';
}

export interface AgentSupervisorOptions {
  defaultDriver: DriverKind;
  /** The agent's state folder: process-driver services log to services/NAME.log in it. */
  stateDir: string;
  logger: Logger;
  onEvent: (record: SupervisorRecord) => void;
  metrics?: SupervisorMetricsSink;
  canRun?: (definition: ServiceDefinition) => boolean;
  /** Where probes get a service's key (src/agent/service-keys/). */
  keys?: KeyStore;
}

export function createAgentSupervisor(options: AgentSupervisorOptions): Supervisor {
  const makeDriver = (kind: DriverKind, service: DesiredService): ServiceDriver => {
    const name = service.definition.name;
    if (kind === 'systemd') return systemdDriver({ unit: service.definition.systemd_unit });
    if (!service.process) throw new CisternError('E_BAD_REQUEST', `${name}: the process driver needs process.argv`);
    return new ProcessDriver({ name, ...service.process, logFile: join(options.stateDir, 'services', `${name}.log`) });
  };
  return new Supervisor({
    defaultDriver: options.defaultDriver, makeDriver, logger: options.logger, onEvent: options.onEvent,
    ...(options.metrics && { metrics: options.metrics }), ...(options.canRun && { canRun: options.canRun }),
    ...(options.keys && { credentialFor: options.keys.credentialFor, forgetCredential: options.keys.forget }),
  });
}

/** The agent's `set-services` handler: arguments checked whole before anything changes. */
export function setServicesCommand(supervisor: Supervisor, defaultDriver: DriverKind): (args: Record<string, unknown>) => Promise<SetServicesResult> {
  return async (args) => {
    const parsed = setServicesArgsSchema.safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CisternError('E_BAD_REQUEST', `set-services: args.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const services = parsed.data.services;
    services.forEach((s, i) => {
      if ((s.driver ?? defaultDriver) === 'process' && !s.process) {
        throw new CisternError('E_BAD_REQUEST', `set-services: args.services.${i}.process: ${s.name} runs with the process driver${s.driver ? '' : ' (this agent\'s default)'}, which needs process.argv`);
      }
    });
    return supervisor.setDesired(services.map((s): DesiredService => ({
      definition: s.definition, run: s.run,
      ...(s.driver && { driver: s.driver }), ...(s.process && { process: s.process }), ...(s.supervision && { supervision: s.supervision }),
    })));
  };
}
