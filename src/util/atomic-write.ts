/**
 * Crash-safe file replacement: write a temporary file in the same folder, fsync it, rename it
 * over the target, fsync the folder. A crash at any point leaves the old file or the new one,
 * never a mix. (write-file-atomic does not fsync the folder, so the rename itself could be lost.)
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode for a new file; an existing file keeps its mode and owner. */
  mode?: number;
  /** Owner for a new file (needs root); default: the process's. */
  owner?: { uid: number; gid: number };
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const existing = await stat(path).catch(() => undefined);
  const mode = existing ? existing.mode & 0o7777 : (options.mode ?? 0o644);
  const handle = await open(tmp, 'wx', mode);
  try {
    try {
      await handle.writeFile(data);
      // fchown, not chown: in a folder others can write, the temporary name could be swapped
      // for a link between the write and a chown by path.
      const owner = existing ? (process.getuid?.() === 0 ? existing : undefined) : options.owner;
      if (owner) await handle.chown(owner.uid, owner.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
