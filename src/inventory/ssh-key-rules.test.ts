import { describe, expect, it } from 'vitest';
import { ED25519, RSA } from '../testing/ssh-keys.js';
import { analyze } from './analyze.js';

const TEXT = `ssh_keys:
  - name: alice
    key: ${ED25519}
  - name: alice
    key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJkMlGHmvCsnjoUDab50kyFw27tw
groups:
  family:
    members: [eden]
    ssh_keys:
      - {name: bob, key: "ssh-rsa ${ED25519.split(' ')[1]}"}
servers:
  eden:
    hostname: eden.lan
    ssh_keys:
      - name: carol
        key: ${RSA}
      - name: carol-again
        key: ${RSA}
      - name: dave
        key: ssh-dss AAAAB3NzaC1kc3M=
      - name: bad name!
        key: ${ED25519}
`;

describe('ssh_keys validation', () => {
  it('reports malformed keys and duplicate names at every level, with their lines', () => {
    const analysis = analyze(TEXT, 'inventory.yaml');
    expect(analysis.ok).toBe(false);
    const found = analysis.findings.map((f) => [f.line, f.severity, f.code, f.message]);
    expect(found).toEqual([
      [4, 'error', 'duplicate-ssh-key-name', 'key name "alice" is already used by ssh_keys[0] at this level'],
      [5, 'error', 'invalid-ssh-key', 'malformed SSH public key "alice": the base64 does not decode to an SSH key (truncated?)'],
      [10, 'error', 'invalid-ssh-key', 'malformed SSH public key "bob": the key says it is ssh-rsa but its data is "ssh-ed25519"'],
      [18, 'warning', 'duplicate-ssh-key', 'key "carol-again" is the same key as ssh_keys[0] at this level'],
      [20, 'error', 'invalid-ssh-key', 'malformed SSH public key "dave": unsupported key type "ssh-dss" (DSA keys are disabled in OpenSSH)'],
      [21, 'error', 'schema', 'malformed value'],
    ]);
    expect(analysis.findings[5]).toMatchObject({ path: ['servers', 'eden', 'ssh_keys', 3, 'name'], expected: expect.stringContaining('a key name') as unknown });
    expect(analysis.findings[1]?.expected).toContain('ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256');
  });

  it('accepts well-formed keys', () => {
    const analysis = analyze(`ssh_keys:\n  - {name: a, key: "${ED25519}"}\nservers:\n  eden:\n    hostname: eden\n    ssh_keys: [{name: a, key: "${RSA}"}]\n`, 'x.yaml');
    expect(analysis.findings).toEqual([]);
  });
});
