/**
 * The user database in passwd(5) format: `name:password:uid:gid:gecos:home:shell`, one account
 * a line. Pure: text in, accounts out. Node has no getpwnam(3), and the agent needs a user's
 * home, uid and gid to write their authorized_keys.
 *
 * Only the file is read: accounts that NSS serves from elsewhere (LDAP, sssd) are not seen.
 * Blank lines, `#` comments and NIS compat entries (`+`/`-`) are skipped. A line that is not
 * seven fields with numeric ids is reported, never guessed at.
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface PasswdParse {
  entries: PasswdEntry[];
  /** Lines that are not a passwd entry, with the name they start with when there is one. */
  malformed: Array<{ line: number; name: string }>;
}

const ID = /^\d{1,10}$/;

export function parsePasswd(text: string): PasswdParse {
  const entries: PasswdEntry[] = [];
  const malformed: PasswdParse['malformed'] = [];
  text.split('\n').forEach((raw, index) => {
    const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (content.trim() === '' || /^[#+-]/.test(content)) return;
    const fields = content.split(':');
    const [name = '', , uid = '', gid = '', , home = '', shell = ''] = fields;
    if (fields.length !== 7 || name === '' || !ID.test(uid) || !ID.test(gid) || !home.startsWith('/')) {
      malformed.push({ line: index + 1, name });
      return;
    }
    entries.push({ name, uid: Number(uid), gid: Number(gid), home, shell, line: index + 1 });
  });
  return { entries, malformed };
}

export type UserLookup =
  | { found: true; entry: PasswdEntry }
  | { found: false; malformedLine?: number };

/** The first entry named `name`, as getpwnam(3) would return; or where its broken line is. */
export function lookupUser(text: string, name: string): UserLookup {
  const parsed = parsePasswd(text);
  const entry = parsed.entries.find((e) => e.name === name);
  const broken = parsed.malformed.find((m) => m.name === name);
  if (entry && (!broken || entry.line < broken.line)) return { found: true, entry };
  return broken ? { found: false, malformedLine: broken.line } : { found: false };
}
