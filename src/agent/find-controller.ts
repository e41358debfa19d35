/**
 * Finding the controller on the local network: browse `_cistern-controller._tcp` until one
 * answers (whose advertised CA matches, when a fingerprint is expected). The TXT record is only
 * a hint; the caller still checks the CA in the TLS handshake itself.
 */
import { CisternError } from '../errors.js';
import type { Mdns } from '../discovery/mdns.js';
import { CONTROLLER_SERVICE, parseControllerTxt } from '../discovery/records.js';

export interface FoundController { url: string; caFingerprint: string }

export interface FindOptions {
  /** Only a controller advertising this CA (`sha256:<hex>`) will do. */
  caFingerprint?: string;
  /** Infinity: look until found or aborted. */
  timeoutMs: number;
  /** Queries are repeated this often until one answers (RFC 6762 §5.2 would back off; the wait is short). */
  queryIntervalMs?: number;
  signal?: AbortSignal;
}

export function findController(mdns: Mdns, options: FindOptions): Promise<FoundController> {
  const wanted = options.caFingerprint?.toLowerCase();
  return new Promise((resolve, reject) => {
    const others = new Set<string>();
    // Filled in below; finish() may run before they are (an answer can arrive at once).
    const live: { query?: NodeJS.Timeout; deadline?: NodeJS.Timeout; browsing?: { stop(): void; refresh(): void } } = {};
    let done = false;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearInterval(live.query);
      clearTimeout(live.deadline);
      live.browsing?.stop();
      options.signal?.removeEventListener('abort', aborted);
      outcome();
    };
    const browsing = mdns.browse(CONTROLLER_SERVICE, {
      seen: (s) => {
        const advert = parseControllerTxt(s.txt);
        const address = s.addresses[0];
        if (!advert || !address) return;
        if (wanted && advert.caFingerprint !== wanted) {
          others.add(`${address} (${advert.caFingerprint.slice(0, 23)}…)`);
          return;
        }
        const host = address.includes(':') ? `[${address}]` : address;
        finish(() => resolve({ url: `https://${host}:${s.port}`, caFingerprint: advert.caFingerprint }));
      },
      gone: () => {},
    });
    live.browsing = browsing;
    if (done) {
      browsing.stop();
      return;
    }
    live.query = setInterval(() => browsing.refresh(), options.queryIntervalMs ?? 1_000);
    // A discoverable box waits as long as it takes; a provisioned one gives up and says why.
    if (Number.isFinite(options.timeoutMs)) live.deadline = setTimeout(() => finish(() => reject(new CisternError('E_CONTROLLER_NOT_FOUND',
      `no controller${wanted ? ` with CA ${wanted.slice(0, 23)}…` : ''} answered on the local network within ${Math.round(options.timeoutMs / 1000)} s${others.size > 0 ? `; others did: ${[...others].join(', ')}` : ''}`,
      { hint: 'is the controller running with mDNS on, on this network segment? Or give --controller URL' }))), options.timeoutMs);
    options.signal?.addEventListener('abort', aborted, { once: true });
    // Hoisted: finish() may run (and unhook it) before this line is reached.
    function aborted(): void {
      finish(() => reject(new CisternError('E_CONTROLLER_NOT_FOUND', 'stopped while looking for the controller')));
    }
  });
}
