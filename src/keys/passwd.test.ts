import { describe, expect, it } from 'vitest';
import { lookupUser, parsePasswd } from './passwd.js';

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

# a comment some tools leave
deploy:x:1000:1000:Deploy User,,,:/home/deploy:/bin/bash
+@netgroup::::::
media:x:1001:1001::/srv/media:
`;

describe('parsePasswd', () => {
  it('reads name, uid, gid, home and shell, skipping blanks, comments and NIS entries', () => {
    const parsed = parsePasswd(PASSWD);
    expect(parsed.malformed).toEqual([]);
    expect(parsed.entries.map((e) => [e.name, e.uid, e.gid, e.home, e.shell, e.line])).toEqual([
      ['root', 0, 0, '/root', '/bin/bash', 1],
      ['daemon', 1, 1, '/usr/sbin', '/usr/sbin/nologin', 2],
      ['deploy', 1000, 1000, '/home/deploy', '/bin/bash', 5],
      ['media', 1001, 1001, '/srv/media', '', 7],
    ]);
  });

  it('reads CRLF lines and a last line without a newline', () => {
    expect(parsePasswd('a:x:1:2::/home/a:/bin/sh\r\nb:x:3:4::/home/b:/bin/sh').entries.map((e) => [e.name, e.shell, e.uid])).toEqual([['a', '/bin/sh', 1], ['b', '/bin/sh', 3]]);
  });

  it('reports lines that are not seven fields with numeric ids and an absolute home', () => {
    const parsed = parsePasswd('short:x:1:1\nbad:x:one:1::/home/bad:/bin/sh\nrel:x:2:2::home/rel:/bin/sh\nextra:x:3:3::/h:/bin/sh:more\nok:x:4:4::/h:/bin/sh\n');
    expect(parsed.malformed).toEqual([{ line: 1, name: 'short' }, { line: 2, name: 'bad' }, { line: 3, name: 'rel' }, { line: 4, name: 'extra' }]);
    expect(parsed.entries.map((e) => e.name)).toEqual(['ok']);
  });
});

describe('lookupUser', () => {
  it('finds the first entry of a name, exactly (no prefix, no case folding)', () => {
    expect(lookupUser(`${PASSWD}deploy:x:2000:2000::/elsewhere:/bin/sh\n`, 'deploy')).toMatchObject({ found: true, entry: { uid: 1000, home: '/home/deploy' } });
    expect(lookupUser(PASSWD, 'dep')).toEqual({ found: false });
    expect(lookupUser(PASSWD, 'Deploy')).toEqual({ found: false });
  });

  it('says which line is broken when the user\'s own line is', () => {
    expect(lookupUser('root:x:0:0::/root:/bin/sh\ndeploy:x:1000\n', 'deploy')).toEqual({ found: false, malformedLine: 2 });
  });
});
