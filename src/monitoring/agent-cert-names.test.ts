import { describe, expect, it } from 'vitest';
import { agentCertNames, namesKey } from './agent-cert-names.js';

describe('agent certificate names', () => {
  it('keeps addresses and host names, drops wildcards, link-local, zones and junk', () => {
    expect(agentCertNames(['0.0.0.0', '192.168.1.10', 'eden.lan.', 'EDEN', 'fe80::1%eth0', 'fd00::7', '[fd00::8]', '', null, undefined, 'not a name', '192.168.1.10'])).toEqual({
      dnsNames: ['eden.lan', 'eden'], ips: ['192.168.1.10', 'fd00::7', 'fd00::8'],
    });
  });

  it('compares name sets regardless of order', () => {
    expect(namesKey({ dnsNames: ['b', 'a'], ips: ['10.0.0.1'] })).toBe(namesKey({ dnsNames: ['a', 'b'], ips: ['10.0.0.1'] }));
  });
});
