import { describe, expect, it } from 'vitest';
import { CisternError } from '../errors.js';
import type { Inventory } from './schema.js';
import { renderTemplate } from './templates.js';

const inventory: Inventory = {
  templates: {
    motd: 'Hello {{ greeting }} on {{ server.name }}\n{% for s in server.services %}- {{ s }}\n{% endfor %}',
    missing: 'line one\nline two {{ nope }}',
    include: 'before {% include "motd" %}',
    passwd: '{% include "/etc/passwd" %}',
    escape: '{{ server.constructor.name }}',
    proto: '{{ server.__proto__ }}',
    loop: '{% for i in (1..100000000) %}{{ i }}{% endfor %}',
    withDescription: { description: 'a template with a description', text: 'ok {{ greeting }}' },
  },
};
const scope = { greeting: 'there', server: { name: 'eden', services: ['jellyfin', 'sonarr'] } };

async function failure(name: string): Promise<CisternError> {
  try {
    await renderTemplate(inventory, name, scope);
  } catch (error) {
    if (error instanceof CisternError) return error;
    throw error;
  }
  throw new Error(`template ${name} rendered`);
}

describe('templates', () => {
  it('renders variables, loops and includes of other templates', async () => {
    expect(await renderTemplate(inventory, 'motd', scope)).toBe('Hello there on eden\n- jellyfin\n- sonarr\n');
    expect(await renderTemplate(inventory, 'include', scope)).toBe('before Hello there on eden\n- jellyfin\n- sonarr\n');
    expect(await renderTemplate(inventory, 'withDescription', scope)).toBe('ok there');
  });

  it('names the template, the line and the missing variable', async () => {
    const error = await failure('missing');
    expect(error.code).toBe('E_TEMPLATE');
    expect(error.message).toBe('template "missing" line 2: variable "nope" is not defined for this server');
    expect(error.details).toMatchObject({ template: 'missing', line: 2, variable: 'nope' });
  });

  it('cannot read files', async () => {
    const error = await failure('passwd');
    expect(error.message).not.toContain('root:');
  });

  it('cannot reach prototypes or constructors', async () => {
    expect((await failure('escape')).code).toBe('E_TEMPLATE');
    expect((await failure('proto')).code).toBe('E_TEMPLATE');
  });

  it('stops a template that would run too long', async () => {
    expect((await failure('loop')).code).toBe('E_TEMPLATE');
  });

  it('reports an unknown template with the names there are', async () => {
    const error = await failure('nope');
    expect(error.code).toBe('E_TEMPLATE_NOT_FOUND');
    expect(error.hint).toContain('motd');
  });
});
