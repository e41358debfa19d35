/**
 * Runs one systeminformation call in a worker thread, with a deadline.
 *
 * A Promise.race timeout is not enough: on Linux, systeminformation calls execSync and
 * execFileSync with no timeout (nvidia-smi, nmcli, lsblk…), and a wedged GPU driver or NFS
 * mount blocks them, and with them the whole event loop. In a worker, a stuck call blocks only
 * that worker; the agent gives up on it at the deadline and reports a gap.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export const SI_CALLS = ['osInfo', 'cpu', 'mem', 'fsSize', 'blockDevices', 'graphics', 'networkInterfaces'] as const;
export type SiCall = (typeof SI_CALLS)[number];

/** Runs one call; rejects on failure or at the deadline. Injected in tests. */
export type SiRunner = (call: SiCall, timeoutMs: number) => Promise<unknown>;

const SI_PATH = createRequire(import.meta.url).resolve('systeminformation');

// CommonJS evaluated as a string, so the worker needs no TypeScript loader under tsx or vitest
// and no separate file next to the compiled output.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
Promise.resolve()
  .then(() => require(workerData.path)[workerData.call]())
  .then(
    (value) => parentPort.postMessage({ ok: true, value }),
    (error) => parentPort.postMessage({ ok: false, error: String((error && error.message) || error) }),
  );
`;

interface Reply {
  ok: boolean;
  value?: unknown;
  error?: string;
}

export const siInWorker: SiRunner = (call, timeoutMs) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: SI_PATH, call } });
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A worker stuck in execSync cannot stop until the child exits; unref it so it never
      // holds the process open, and do not wait for it.
      worker.unref();
      void worker.terminate();
      finish();
    };
    const timer = setTimeout(() => settle(() => reject(new Error(`timed out after ${timeoutMs} ms`))), timeoutMs);
    worker.once('message', (reply: Reply) =>
      settle(() => (reply.ok ? resolve(reply.value) : reject(new Error(reply.error ?? 'failed')))),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`worker exited with code ${code}`))));
  });
