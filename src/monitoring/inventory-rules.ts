/**
 * Rules on the inventory's `monitoring:` section that its schema cannot see alone: routes and the
 * default receiver name receivers that exist, and a URL written into alertmanager.yml carries no
 * credential. Pure: an inventory in, findings out (run by `checkRules`).
 */
import type { FindingInput } from '../inventory/findings.js';
import type { Inventory } from '../inventory/schema.js';
import { didYouMean } from '../util/suggest.js';

/** Query parameters that usually carry a credential. */
const SECRET_PARAMS = /^(token|access_token|auth|key|apikey|api_key|secret|password|sig|signature)$/i;

export function monitoringRules(inventory: Inventory): FindingInput[] {
  const monitoring = inventory.monitoring;
  if (!monitoring) return [];
  const findings: FindingInput[] = [];
  const receivers = new Set(Object.keys(monitoring.receivers ?? {}));
  const unknown = (name: string, path: (string | number)[]) => findings.push({
    severity: 'error', code: 'unknown-receiver', path, message: `no receiver named "${name}" under monitoring.receivers`,
    found: JSON.stringify(name), expected: receivers.size > 0 ? `one of ${[...receivers].join(', ')}` : 'a receiver defined under monitoring.receivers',
    hint: didYouMean(name, receivers),
  });
  monitoring.routes?.forEach((route, index) => {
    if (!receivers.has(route.receiver)) unknown(route.receiver, ['monitoring', 'routes', index, 'receiver']);
  });
  if (monitoring.default_receiver !== undefined && !receivers.has(monitoring.default_receiver)) unknown(monitoring.default_receiver, ['monitoring', 'default_receiver']);
  for (const [name, receiver] of Object.entries(monitoring.receivers ?? {})) {
    if (receiver.type !== 'webhook' && receiver.type !== 'ntfy') continue;
    const secret = urlSecret(receiver.url);
    if (secret) {
      findings.push({
        severity: 'error', code: 'secret-in-url', path: ['monitoring', 'receivers', name, 'url'],
        message: `the URL carries ${secret}, which would be written in plaintext into alertmanager.yml`,
        hint: receiver.type === 'ntfy' ? 'put the access token in a file and name it with token_file' : 'put the token in a file and name it with bearer_token_file',
      });
    }
  }
  return findings;
}

function urlSecret(text: string): string | undefined {
  let url: URL;
  try { url = new URL(text); } catch { return undefined; }
  if (url.username !== '' || url.password !== '') return 'a user name or password';
  for (const key of url.searchParams.keys()) if (SECRET_PARAMS.test(key)) return `a "${key}" parameter`;
  return undefined;
}
