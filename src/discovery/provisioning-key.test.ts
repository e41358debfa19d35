import { describe, expect, it } from 'vitest';
import { generateJoinToken, redact } from '../controller/tokens.js';
import { formatProvisioningKey, parseProvisioningKey } from './provisioning-key.js';

const ca = `sha256:${'0f'.repeat(32)}`;

describe('provisioning keys', () => {
  it('carry a join token and the CA fingerprint, and give both back', () => {
    const { token, id } = generateJoinToken();
    const key = formatProvisioningKey(token, ca);
    expect(key).toMatch(/^cpk_[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[0-9a-f]{64}$/);
    expect(parseProvisioningKey(`  ${key}\n`)).toEqual({ token, tokenId: id, caFingerprint: ca });
  });

  it('refuse anything else', () => {
    const { token } = generateJoinToken();
    for (const bad of [token, formatProvisioningKey(token, ca).slice(0, -1), `cpk_zz${formatProvisioningKey(token, ca).slice(6)}`, '']) {
      expect(parseProvisioningKey(bad)).toBeUndefined();
    }
  });

  it('have their secret redacted like any token, the fingerprint left readable', () => {
    const { token, id } = generateJoinToken();
    const key = formatProvisioningKey(token, ca);
    expect(redact(`agent --provisioning-key ${key}`)).toBe(`agent --provisioning-key cpk_${id}.***.${'0f'.repeat(32)}`);
  });
});
