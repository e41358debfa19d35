/**
 * The fleet lab (ARCHITECTURE.md, "The fleet lab"): a small fleet of network-namespace hosts
 * on one machine, for system tests and for exploring by hand (`npm run lab -- up 3`).
 * See test/lab/README.md.
 */
export { assertLabPrerequisites, createLab, DEFAULT_TIME_LIMIT_MS, Lab, withLab, type HostRef, type Impairment, type LabOptions, type ServiceSelection } from './lab.js';
export { LabHost, type ServiceName } from './host.js';
export { LabProcess, processState, type Exit } from './processes.js';
export { cleanupStale, LAB_ROOT, type CleanupOptions } from './registry.js';
export { hostAddress, LAB_SUBNET, NAMESPACE_PREFIX } from './network.js';
export type { HttpOptions, HttpResult, TcpResult } from './client.js';
export { CONTROLLER_PORT, SSH_PORT, TRANSMISSION_RPC_PORT, type LabController } from './services.js';
export { MEDIA_APP_NAMES, MEDIA_APPS, type Control, type Health, type MediaApp } from './standins/media.js';
