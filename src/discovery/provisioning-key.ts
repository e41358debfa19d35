/**
 * A provisioning key is what an install image carries so that a box joins the fleet by itself
 * (balena's model): a join token and the controller's CA fingerprint in one string,
 * `cpk_<token id>.<secret>.<CA sha256 hex>`. The box finds the controller by mDNS, checks its
 * CA against the fingerprint, and only then sends the token. Limits (group, uses, expiry) and
 * revocation are the join token's own.
 */
const KEY = /^cpk_([0-9a-f]{8})\.([A-Za-z0-9_-]{32,})\.([0-9a-f]{64})$/;

export interface ProvisioningKey {
  /** The join token inside, `cst_<id>.<secret>`. */
  token: string;
  tokenId: string;
  /** `sha256:<hex>` of the controller's CA. */
  caFingerprint: string;
}

export function formatProvisioningKey(joinToken: string, caFingerprint: string): string {
  const body = joinToken.replace(/^cst_/, '');
  return `cpk_${body}.${caFingerprint.replace(/^sha256:/, '')}`;
}

export function parseProvisioningKey(text: string): ProvisioningKey | undefined {
  const match = KEY.exec(text.trim());
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { token: `cst_${match[1]}.${match[2]}`, tokenId: match[1], caFingerprint: `sha256:${match[3]}` };
}
