/**
 * Public keys made by `ssh-keygen` for tests, with the fingerprints `ssh-keygen -l` printed for
 * them. Public keys only: there is nothing secret here.
 */
export const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJkMlGHmvCsnjoUDab50kyFw27twBIk7Vs6p588QgDQ1 test-ed25519-256';
export const ED25519_FP = 'SHA256:c4ZtaNwS9Ipjt56cM1r1jZf39mMy9WZyKi3+J+SiA+k';
export const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCxGjT+uymJK9Q1cH9FjYA3QMJ16zd8Lq+BlqvVY4NlEbRsJNWhrG6oMxD7IpvEhL01kzF040YuFzlrJnEQb/ZC0YNMnsGEbKS00kW+uhvDoc4WFuPb7iAp2qKr/27vf0QRTtUPGbMQa5WZ961S3W8OP7A2Y7ZHY0UyUAgjz7JHR38/H7dFXpBua3xoNOmBbLU0D3WoZaNvchU0jXQp2W1C2O/78+TfQZf27NyUgufJzL5fK4HBZ2+GO0JKa64ip3cvEnQ30qIZgzxWWPSAXGHWvucoogyruF9iubrEzKtPwJOjNJXl+1zEJBYklXeaLBMeC0HA7O99RlyvdWlxxxvP test-rsa-2048';
export const RSA_FP = 'SHA256:iLwzOqqnJFmcn6fZf2w7RfHzpO0nhL6bOiyewfPm814';
export const ECDSA_256 = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBM+RlhMkx86FWL0RFAtJOBQ4zujBP9Bb6nA4y6Pj5U90UlFkHNm2NhLoYjvVfgl5TvnKx6MzC91i2GbRrr44X2M= test-ecdsa-256';
export const ECDSA_256_FP = 'SHA256:Z8VKsEf07bjDW8Uo4pbd1XnGS62Gqhn5aulpnOQGcZw';
export const ECDSA_384 = 'ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBEZtzqzWvuaZpwdaDG8tYkZvUinu3/nwIxjQ0l+E5Frq0eyVsV/aaqjCg6pgUTLG+QS0erbWEfdHhyADzneLS5vBMBNrXMxcSBxKxA6FsERp72IqefIPAfHvtyT12BxWgQ== test-ecdsa-384';
export const ECDSA_384_FP = 'SHA256:AO5HK329keIMrjilMCmERhoV5OHwfXkO1rruRg4LYCs';
export const ECDSA_521 = 'ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBACRfptlrwU+P/S5Et8/qA1XrXnwJ1JkZkz07s1r/lX+LJxLUsDt0ntswQcd5/6Azw2KDdEjSk1jhk/QQSEErmoWHwBhLZZHQ5bCtzsoljHOADGuKqQ+Y0JmciWczjE+6JMOpJTNSDGdMV7+E2drVNIrgimP1P2ETN7xJcIzTSMObvPVQQ== test-ecdsa-521';
export const ECDSA_521_FP = 'SHA256:cnjcn0zbp6gmWUJ6WMbVDvesEiHZTUESajuDEtp7LRk';

/** The SSH wire encoding of a list of strings: what a key's base64 decodes to. */
export function sshBlob(...fields: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(fields.flatMap((field) => {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'latin1') : Buffer.from(field);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  }));
}

/** A key line from fields: `sshKeyLine('ssh-ed25519', [type, bytes])`. */
export function sshKeyLine(type: string, fields: (string | Uint8Array)[], comment = ''): string {
  return `${type} ${sshBlob(...fields).toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** Distinct valid ed25519 key lines, made up: 32 bytes from a seed. */
export function fakeEd25519(seed: number, comment = `key-${seed}`): string {
  return sshKeyLine('ssh-ed25519', ['ssh-ed25519', Buffer.alloc(32, seed)], comment);
}
