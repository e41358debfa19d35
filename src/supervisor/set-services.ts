/**
 * The `set-services` agent command on the wire: every service the controller wants this box to
 * supervise, with its definition (a ResolvedService, src/services/resolve.ts), whether it should
 * run here now, how to run it, and how patiently to supervise it. A service the controller
 * stops listing is stopped and forgotten.
 */
import { z } from 'zod';
import { serviceDefinitionSchema } from '../services/schema.js';
import { supervisionSchema } from './policy.js';

export const SET_SERVICES = 'set-services';

const processSchema = z.object({
  argv: z.array(z.string().min(1).max(4096)).min(1).max(256).describe('Program and arguments, run without a shell, in the foreground'),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name' }), z.string().max(65_536)).optional(),
}).strict();

export const desiredServiceSchema = z.object({
  name: z.string().max(64),
  definition: serviceDefinitionSchema,
  run: z.boolean(),
  /** Default: the agent's --service-driver. */
  driver: z.enum(['systemd', 'process']).optional(),
  /** For the process driver: what to spawn. */
  process: processSchema.optional(),
  supervision: supervisionSchema.optional(),
}).superRefine((entry, ctx) => {
  if (entry.definition.name !== entry.name) ctx.addIssue({ code: 'custom', path: ['definition', 'name'], message: `is "${entry.definition.name}", not the entry's name "${entry.name}"` });
  if (entry.driver === 'process' && !entry.process) ctx.addIssue({ code: 'custom', path: ['process'], message: 'the process driver needs process.argv' });
});

export const setServicesArgsSchema = z.object({
  services: z.array(desiredServiceSchema).max(100),
}).superRefine((args, ctx) => {
  const seen = new Set<string>();
  args.services.forEach((s, i) => {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `"${s.name}" is listed twice` });
    seen.add(s.name);
  });
});

export type DesiredServiceArgs = z.infer<typeof desiredServiceSchema>;
export type SetServicesArgs = z.infer<typeof setServicesArgsSchema>;

/** What the agent answers: each service's state right after the change. */
export interface SetServicesResult {
  services: Array<{ name: string; run: boolean; driver: 'systemd' | 'process'; state: string; detail: string }>;
}
