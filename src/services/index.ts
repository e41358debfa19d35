/** The service catalog: definitions, their schema, what probe answers mean, and the merge with the inventory. */
export { CATALOG, catalogService, isCatalogService } from './catalog.js';
export { KNOWN_SERVICES, isKnownService } from './known.js';
export { probeVerdict, type ProbeAnswer, type ProbeVerdict, type VerdictContext } from './probe-verdict.js';
export { resolveServices, CUSTOM_DEFAULTS, type Placement, type ResolvedService, type ServiceSource } from './resolve.js';
export {
  serviceDefinitionSchema, probeSchema, statusProbeSchema, keySourceSchema, VERDICTS,
  type KeySource, type ServiceDefinition, type Probe, type StatusProbe, type Verdict,
} from './schema.js';
