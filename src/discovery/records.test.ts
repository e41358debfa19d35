import { describe, expect, it } from 'vitest';
import { agentInstanceName, agentTxt, controllerTxt, hardwareSummary, keyFingerprint, parseAgentTxt, parseControllerTxt, shortFingerprint } from './records.js';

const fp = keyFingerprint('age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq');

describe('DNS-SD records', () => {
  it('fingerprints an age recipient as sha256 hex, shown in four groups', () => {
    expect(fp).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(shortFingerprint(fp)).toMatch(/^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/);
    expect(shortFingerprint(fp)).toBe(fp.slice(7, 23).match(/.{4}/g)?.join('-'));
  });

  it('round-trips an agent TXT record, as bonjour-service hands it back (strings or buffers)', () => {
    const advert = { id: '', name: 'eden', version: '0.1.0', profile: 'pc-gpu', fingerprint: fp, hardware: 'x86_64, 4 cores, 7.8 GiB' };
    expect(parseAgentTxt(agentTxt(advert))).toEqual(advert);
    const buffers = Object.fromEntries(Object.entries(agentTxt(advert)).map(([k, v]) => [k, Buffer.from(v)]));
    expect(parseAgentTxt(buffers)).toEqual(advert);
  });

  it('leaves empty values out of the record and reads them back as empty', () => {
    const advert = { id: '', name: 'eden', version: '0.1.0', profile: 'generic', fingerprint: fp, hardware: '' };
    expect(Object.keys(agentTxt(advert)).sort()).toEqual(['fp', 'name', 'profile', 'v']);
    expect(parseAgentTxt(agentTxt(advert))).toEqual(advert);
  });

  it('ignores records without a well-formed fingerprint, and makes hostile text printable and short', () => {
    expect(parseAgentTxt({ name: 'x' })).toBeUndefined();
    expect(parseAgentTxt({ fp: 'sha256:abc' })).toBeUndefined();
    expect(parseAgentTxt(undefined)).toBeUndefined();
    const parsed = parseAgentTxt({ fp: fp.toUpperCase().replace('SHA256', 'sha256'), name: `evil\u001b[2J${'x'.repeat(500)}` });
    expect(parsed?.fingerprint).toBe(fp);
    expect(parsed?.name).toMatch(/^evil\?\[2Jx+$/);
    expect(parsed?.name.length).toBe(200);
  });

  it('round-trips a controller TXT record', () => {
    const ca = `sha256:${'ab'.repeat(32)}`;
    expect(parseControllerTxt(controllerTxt({ caFingerprint: ca, version: '0.1.0' }))).toEqual({ caFingerprint: ca, version: '0.1.0' });
    expect(parseControllerTxt({ ca: 'nope' })).toBeUndefined();
  });

  it('names instances by server name and fingerprint, within the 63-byte label limit', () => {
    expect(agentInstanceName('eden', fp)).toBe(`eden [${shortFingerprint(fp).slice(0, 9)}]`);
    expect(Buffer.byteLength(agentInstanceName('x'.repeat(63), fp))).toBeLessThanOrEqual(63);
  });

  it('summarises hardware, counting whole disks rather than their partitions', () => {
    expect(hardwareSummary({
      architecture: 'x86_64', cpu: { cores: 4, threads: 8 }, memory: { totalBytes: 8 * 2 ** 30 },
      disks: [{ device: '/dev/sda', disk: '/dev/sda', sizeBytes: 500e9 }, { device: '/dev/sda1', disk: '/dev/sda', sizeBytes: 499e9 }],
    })).toBe('x86_64, 4 cores, 8.0 GiB, 500 GB disk');
    expect(hardwareSummary({ architecture: 'aarch64', cpu: { cores: null, threads: 4 }, memory: { totalBytes: null }, disks: [] })).toBe('aarch64, 4 cores');
  });
});
