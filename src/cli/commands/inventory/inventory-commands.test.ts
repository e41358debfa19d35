import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../../testing/cli.js';
import { ORIGINAL_FORMAT, RICHLY_COMMENTED } from '../../../testing/fixtures.js';
import { tempDir, tempFile } from '../../../testing/tmp.js';

const json = (stdout: string) => JSON.parse(stdout);

function fleet(text = RICHLY_COMMENTED): string {
  return tempFile('inventory.yaml', text);
}

describe('inventory list', () => {
  it('lists servers with a health column, filtered by --on', async () => {
    const file = fleet();
    const all = await cli(['inventory', 'list', '--file', file]);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^NAME\s+ADDRESS\s+ROLE\s+LOCATION\s+HARDWARE\s+HEALTH/);
    expect(all.stdout).toContain('eden');
    const some = await cli(['inventory', 'list', '--file', file, '--on', 'role=secondary', '--json']);
    expect(json(some.stdout).map((r: { name: string }) => r.name)).toEqual(['rivers']);
    expect(json(some.stdout)[0]).toMatchObject({ health: 'unknown', address: '192.168.1.11' });
  });

  it('finds the file through $CISTERN_INVENTORY, then ./inventory.yaml', async () => {
    const file = fleet();
    expect((await cli(['inventory', 'list', '--json'], { env: { CISTERN_INVENTORY: file } })).code).toBe(0);
    const dir = tempDir();
    writeFileSync(join(dir, 'inventory.yaml'), ORIGINAL_FORMAT);
    expect(json((await cli(['inventory', 'list', '--json'], { cwd: dir })).stdout)).toHaveLength(2);
  });

  it('says which file is missing', async () => {
    const run = await cli(['inventory', 'list', '--file', '/nonexistent/inventory.yaml']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error[E_FILE_NOT_FOUND]: inventory file /nonexistent/inventory.yaml does not exist');
  });

  it('points at a malformed selector with a usage error', async () => {
    const run = await cli(['inventory', 'list', '--file', fleet(), '--on', 'tag:tv,colur=red']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown field "colur"');
    expect(run.stderr).toContain('  tag:tv,colur=red\n         ^^^^^');
  });

  it('gives errors as JSON with --json', async () => {
    const run = await cli(['inventory', 'list', '--file', '/nonexistent.yaml', '--json']);
    expect(run.code).toBe(1);
    expect(json(run.stdout).error.code).toBe('E_FILE_NOT_FOUND');
  });
});

describe('inventory show, groups, render, schema', () => {
  it('shows a server with its merged variables', async () => {
    const run = await cli(['inventory', 'show', 'ocean', '--file', 'examples/inventory.yaml', '--json']);
    expect(run.code).toBe(0);
    const data = json(run.stdout);
    expect(data.groups).toEqual(['family']);
    expect(data.vars.motd_greeting).toBe("Hello from grandma's");
    expect(data.vars_origin).toMatchObject({ motd_greeting: 'server', admin_contact: 'fleet' });
  });

  it('suggests a server name for a typo', async () => {
    const run = await cli(['inventory', 'show', 'edem', '--file', fleet()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('did you mean "eden"?');
  });

  it('lists groups with resolved members', async () => {
    const run = await cli(['inventory', 'groups', '--file', 'examples/inventory.yaml', '--json']);
    expect(json(run.stdout)).toEqual([expect.objectContaining({ name: 'family', members: ['eden', 'ocean'] })]);
  });

  it('renders a template per server', async () => {
    const run = await cli(['inventory', 'render', 'motd', '--server', 'eden', '--file', 'examples/inventory.yaml']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Welcome to the family media server, this is eden (primary) in living-room.\nServices: jellyfin, sonarr, radarr\nTrouble? Write to admin@example.org.\n');
  });

  it('requires --server for render', async () => {
    const run = await cli(['inventory', 'render', 'motd', '--file', 'examples/inventory.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--server');
  });

  it('prints the JSON Schema, the same one committed in docs/', async () => {
    const run = await cli(['inventory', 'schema']);
    expect(run.code).toBe(0);
    expect(json(run.stdout)).toEqual(JSON.parse(readFileSync('docs/inventory.schema.json', 'utf8')));
  });
});

describe('inventory validate', () => {
  it('passes a valid file with exit 0', async () => {
    const run = await cli(['inventory', 'validate', '--file', 'examples/inventory.yaml']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('is valid: 3 servers, 0 warnings');
  });

  it('reports every problem with file:line:column and exits 1', async () => {
    const file = fleet(RICHLY_COMMENTED.replace("'AA:BB:CC:00:00:10'", "'AA:BB:CC:00:10'").replace('role: secondary # trailing', 'role: boss'));
    const run = await cli(['inventory', 'validate', '--file', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${file}:10:18: error servers.eden.mac_address: malformed MAC address (found "AA:BB:CC:00:10", expected a MAC address`);
    expect(run.stdout).toContain(`${file}:30:11: error servers.rivers.role: unknown role (found "boss", expected one of primary, secondary, storage)`);
    expect(run.stdout).toContain('2 errors');
    const data = json((await cli(['inventory', 'validate', '--file', file, '--json'])).stdout);
    expect(data.ok).toBe(false);
    expect(data.findings.map((f: { code: string }) => f.code)).toEqual(['invalid-mac', 'unknown-key', 'unknown-role', 'unknown-key']);
  });

  it('rejects --record without --connectivity as a usage error', async () => {
    expect((await cli(['inventory', 'validate', '--file', fleet(), '--record'])).code).toBe(2);
  });
});

describe('inventory edits', () => {
  it('adds a server from flags, changing nothing else in the file', async () => {
    const file = fleet();
    const run = await cli(['inventory', 'add', 'ocean', '--file', file, '--hostname', '192.168.1.12', '--role', 'storage', '--tag', 'nas', 'backup', '--service', 'bazarr']);
    expect(run.code, run.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    const comment = '    # a comment at the end of rivers\n';
    const at = RICHLY_COMMENTED.indexOf(comment) + comment.length;
    expect(text).toBe(`${RICHLY_COMMENTED.slice(0, at)}  ocean:
    hostname: 192.168.1.12
    role: storage
    tags:
    - nas
    - backup
    services:
    - bazarr
${RICHLY_COMMENTED.slice(at)}`);
  });

  it('asks for a missing hostname only on a terminal', async () => {
    const file = fleet();
    const piped = await cli(['inventory', 'add', 'ocean', '--file', file]);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('--hostname is required');
    expect(readFileSync(file, 'utf8')).toBe(RICHLY_COMMENTED);
    const asked = await cli(['inventory', 'add', 'ocean', '--file', file], { interactive: true, answers: ['192.168.1.40'] });
    expect(asked.code).toBe(0);
    expect(asked.prompts).toEqual(['hostname of ocean: ']);
    expect(readFileSync(file, 'utf8')).toContain('  ocean:\n    hostname: 192.168.1.40\n');
  });

  it('refuses a bad flag value, naming the flag, and writes nothing', async () => {
    const file = fleet();
    const run = await cli(['inventory', 'add', 'ocean', '--file', file, '--hostname', 'x', '--mac', 'nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--mac: expected a MAC address');
    expect(readFileSync(file, 'utf8')).toBe(RICHLY_COMMENTED);
  });

  it('refuses to add a server twice', async () => {
    const run = await cli(['inventory', 'add', 'eden', '--file', fleet(), '--hostname', '192.168.1.50']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_SERVER_EXISTS');
  });

  it('refuses an addition that would not validate, and writes nothing', async () => {
    const file = fleet();
    const run = await cli(['inventory', 'add', 'ocean', '--file', file, '--hostname', '192.168.1.10']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_INVENTORY_UNCHANGED_INVALID');
    expect(run.stderr).toContain('is already used by server "eden"');
    expect(readFileSync(file, 'utf8')).toBe(RICHLY_COMMENTED);
  });

  it('sets fields, changing only their bytes', async () => {
    const file = fleet();
    const run = await cli(['inventory', 'set', 'rivers', 'location=basement', '--file', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(RICHLY_COMMENTED.replace('location: attic', 'location: basement'));
    const again = await cli(['inventory', 'set', 'rivers', 'location=basement', '--file', file, '--json']);
    expect(json(again.stdout).changed).toBe(false);
  });

  it('sets nested fields as YAML values and unsets fields', async () => {
    const file = fleet();
    expect((await cli(['inventory', 'set', 'rivers', 'ssh.port=2222', 'labels.owner=mum', '--unset', 'location', '--file', file])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('    role: secondary # trailing\n    ssh:\n      port: 2222\n    labels:\n      owner: mum\n    # a comment at the end of rivers\n');
    expect(text).not.toContain('location: attic');
  });

  it('refuses a value that would not validate, leaving the file byte-identical', async () => {
    const file = fleet();
    const run = await cli(['inventory', 'set', 'rivers', 'ssh.port=99999', '--file', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/servers\.rivers\.ssh\.port/);
    expect(readFileSync(file, 'utf8')).toBe(RICHLY_COMMENTED);
  });

  it('keeps status machine-owned', async () => {
    const run = await cli(['inventory', 'set', 'rivers', 'status.health=healthy', '--file', fleet()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('status is machine-owned');
  });

  it('tags and untags', async () => {
    const file = fleet();
    expect((await cli(['inventory', 'tag', 'eden', 'kids', 'tv', '--file', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(RICHLY_COMMENTED.replace('[tv,   family]', '[tv, family, kids]'));
    expect((await cli(['inventory', 'untag', 'rivers', 'none', '--file', file, '--json'])).stdout).toContain('"changed": false');
    expect((await cli(['inventory', 'untag', 'eden', 'tv', 'family', 'kids', '--file', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain('tags:');
  });

  it('removes a server only with confirmation', async () => {
    const file = fleet(ORIGINAL_FORMAT.replace(/services:\n {2}jellyfin:[\s\S]*?storage:/, 'storage:'));
    const before = readFileSync(file, 'utf8');
    const piped = await cli(['inventory', 'remove', 'rivers', '--file', file]);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('pass --yes');
    const no = await cli(['inventory', 'remove', 'rivers', '--file', file], { interactive: true, answers: ['n'] });
    expect(no.code).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const yes = await cli(['inventory', 'remove', 'rivers', '--file', file], { interactive: true, answers: ['y'] });
    expect(yes.code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain('rivers');
  });

  it('will not remove a server a service still names', async () => {
    const file = fleet(ORIGINAL_FORMAT);
    const run = await cli(['inventory', 'remove', 'rivers', '--yes', '--file', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('replica "rivers" is not a server');
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL_FORMAT);
  });
});
