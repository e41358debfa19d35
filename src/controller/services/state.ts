/**
 * Where each service runs now, as the controller last decided: primary, replicas, the fencing
 * epoch of single-writer services, and the admin's own placement orders (`services move`,
 * `failover --to`). Kept as one JSON value in the controller's store; parsed with a schema, so a
 * damaged value is reported rather than trusted.
 */
import { z } from 'zod';

export const serviceRecordSchema = z.object({
  primary: z.string().nullable(),
  replicas: z.array(z.string()),
  /** Grows with every change of primary; an agent runs a single-writer service only under the current one. */
  epoch: z.int().nonnegative(),
  /** The admin's order (`services move`, `failover --to`): a pin that outranks the inventory's. */
  pinnedPrimary: z.string().optional(),
  /** When the primary last changed (epoch ms). */
  since: z.number(),
});
export type ServiceRecord = z.infer<typeof serviceRecordSchema>;

export const servicesStateSchema = z.object({ version: z.literal(1), services: z.record(z.string(), serviceRecordSchema) });
export type ServicesState = z.infer<typeof servicesStateSchema>;

export const EMPTY_STATE: ServicesState = { version: 1, services: {} };

/** The state after a plan was applied: epochs grow where the primary changed. */
export function applyPlacements(
  state: ServicesState,
  placements: readonly { service: string; primary: string | null; replicas: readonly string[] }[],
  now: number,
): ServicesState {
  const services: ServicesState['services'] = {};
  for (const p of placements) {
    const before = state.services[p.service];
    const changed = before?.primary !== p.primary;
    services[p.service] = {
      primary: p.primary, replicas: [...p.replicas],
      epoch: changed ? (before?.epoch ?? 0) + 1 : (before?.epoch ?? 1),
      ...(before?.pinnedPrimary !== undefined && { pinnedPrimary: before.pinnedPrimary }),
      since: changed ? now : (before?.since ?? now),
    };
  }
  return { version: 1, services };
}
