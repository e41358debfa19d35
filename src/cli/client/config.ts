/**
 * Where the CLI finds its controller: `$CISTERN_URL`, `$CISTERN_TOKEN` and `$CISTERN_CA` (a PEM
 * file), else `~/.config/cistern/config.json` (0600), written by `cistern up` and by the
 * controller's first start on the same account.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CisternError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

export const clientConfigSchema = z.object({ controller: z.url(), token: z.string().min(1), caPem: z.string().min(1) });
export type ClientConfig = z.infer<typeof clientConfigSchema>;

export function configDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'cistern');
}

export async function saveClientConfig(env: NodeJS.ProcessEnv, config: ClientConfig): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function loadClientConfig(env: NodeJS.ProcessEnv): Promise<ClientConfig> {
  const file = join(configDir(env), 'config.json');
  let saved: Partial<ClientConfig> = {};
  try {
    const parsed = clientConfigSchema.partial().safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new CisternError('E_CLIENT_CONFIG', `${file} is not a valid cistern client config`);
    saved = parsed.data;
  } catch (error) {
    if (error instanceof CisternError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CisternError('E_CLIENT_CONFIG', `cannot read ${file}`, { cause: error });
  }
  const caPem = env.CISTERN_CA ? await readFile(env.CISTERN_CA, 'utf8').catch(() => undefined) : saved.caPem;
  const config = { controller: env.CISTERN_URL ?? saved.controller, token: env.CISTERN_TOKEN ?? saved.token, caPem };
  const parsed = clientConfigSchema.safeParse(config);
  if (!parsed.success) {
    const missing = Object.entries(config).filter(([, v]) => !v).map(([k]) => k);
    throw new CisternError('E_CLIENT_CONFIG', `no controller to talk to: missing ${missing.join(', ') || 'a valid URL'}`, {
      hint: `run \`cistern up\`, or set CISTERN_URL, CISTERN_TOKEN and CISTERN_CA (or write ${file})`,
    });
  }
  return parsed.data;
}
