/**
 * Where the agent gets a service's credential for probes that take one, in this order:
 *
 * 1. the admin's --service-keys file (admin-file.ts), read at start and again when it changes;
 * 2. the application's own config file, as the definition's `key_source` says (relative to its
 *    `state_dir`): read when first needed, again after the service is (re)started (`forget`), and
 *    again whenever the file changed since (an app writes its key on first start).
 *
 * Whether a file changed is told by its inode, size and times, so an unchanged key file costs
 * one stat. Nothing here logs, throws or returns a key anywhere but to the probe: log lines name
 * the service and the file, and say whether a key was found.
 */
import { readFile, stat } from 'node:fs/promises';
import { keySourcePath, readKeyField } from '../../services/key-readers.js';
import type { ServiceDefinition } from '../../services/schema.js';
import type { Logger } from '../../util/logger.js';
import type { ProbeCredential } from '../supervision/probe-runner.js';
import { fileSignature, loadServiceKeys, type AdminKeys } from './admin-file.js';

export interface KeyStore {
  /** The service's credential, or undefined when the agent has none. Never throws. */
  credentialFor(definition: ServiceDefinition): Promise<ProbeCredential | undefined>;
  /** The service was (re)started: read its app's key file afresh next time. */
  forget(service: string): void;
}

export interface KeyStoreOptions {
  /** The admin's file, already loaded (startup refuses a bad one). */
  admin?: AdminKeys;
  logger?: Logger;
}

interface AppKey { path: string; signature: string; key: string | undefined }

export function createKeyStore(options: KeyStoreOptions = {}): KeyStore {
  let admin = options.admin;
  const app = new Map<string, AppKey>();
  /** What was last logged about each service's key, so a log line marks a change, not every probe. */
  const noted = new Map<string, string>();
  const note = (service: string, what: string, fields: Record<string, unknown>) => {
    if (noted.get(service) === what) return;
    noted.set(service, what);
    options.logger?.info({ service, ...fields }, what);
  };

  async function refreshAdmin(): Promise<void> {
    if (!admin) return;
    let signature: string;
    try {
      signature = fileSignature(await stat(admin.file));
    } catch {
      signature = 'missing';
    }
    if (signature === admin.signature) return;
    try {
      admin = await loadServiceKeys(admin.file);
      options.logger?.info({ file: admin.file, services: [...admin.keys.keys()] }, 'service keys file read again');
    } catch (error) {
      // Keep the keys in force: a half-edited file must not take every status probe down. The
      // message names lines and fields, never values. Tried again when the file changes again.
      options.logger?.warn({ file: admin.file, err: (error as Error).message }, 'service keys file changed but cannot be used; keeping the keys read before');
      admin = { ...admin, signature };
    }
  }

  async function fromApp(definition: ServiceDefinition): Promise<string | undefined> {
    const path = keySourcePath(definition);
    const source = definition.key_source;
    if (!path || !source) return undefined;
    let signature: string;
    try {
      signature = fileSignature(await stat(path));
    } catch (error) {
      app.delete(definition.name);
      note(definition.name, 'no API key: the application\'s key file cannot be read', { file: path, code: (error as NodeJS.ErrnoException).code });
      return undefined;
    }
    const cached = app.get(definition.name);
    if (cached && cached.path === path && cached.signature === signature) return cached.key;
    let key: string | undefined;
    try {
      key = readKeyField(await readFile(path, 'utf8'), source.format, source.field);
    } catch (error) {
      note(definition.name, 'no API key: the application\'s key file cannot be read', { file: path, code: (error as NodeJS.ErrnoException).code });
      return undefined;
    }
    app.set(definition.name, { path, signature, key });
    if (key) note(definition.name, 'API key read from the application\'s config file', { file: path, field: source.field });
    else note(definition.name, 'no API key in the application\'s config file (yet)', { file: path, field: source.field });
    return key;
  }

  return {
    async credentialFor(definition) {
      try {
        await refreshAdmin();
        const given = admin?.keys.get(definition.name);
        if (given) {
          note(definition.name, 'API key from the service keys file', { file: admin?.file });
          return given;
        }
        const key = await fromApp(definition);
        return key ? { key } : undefined;
      } catch (error) {
        options.logger?.warn({ service: definition.name, err: (error as Error).message }, 'could not look up the service\'s key');
        return undefined;
      }
    },
    forget(service) {
      app.delete(service);
    },
  };
}
