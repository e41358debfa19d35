import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CisternError } from '../errors.js';
import { parseSelector, selectorMatches, type SelectableServer } from './selector.js';

const server = (name: string, over: Partial<SelectableServer> = {}): SelectableServer => ({
  name, tags: [], groups: new Set(), fields: {}, labels: {}, ...over,
});

const eden = server('media-eden', { tags: ['tv', 'family'], groups: new Set(['family']), fields: { role: 'primary', location: 'living-room', health: 'healthy' }, labels: { owner: 'mum' } });
const attic = server('media-attic', { tags: ['tv'], fields: { role: 'secondary', location: 'attic' } });
const nas = server('nas', { tags: ['storage'], fields: { role: 'storage', location: 'attic' } });
const all = [eden, attic, nas];

function select(text: string): string[] {
  const selector = parseSelector(text);
  return all.filter((s) => selectorMatches(selector, s)).map((s) => s.name);
}

function failure(text: string): CisternError {
  try {
    parseSelector(text);
  } catch (error) {
    if (error instanceof CisternError) return error;
    throw error;
  }
  throw new Error(`"${text}" parsed`);
}

describe('selectors', () => {
  it.each([
    ['nas', ['nas']],
    ['media-*', ['media-eden', 'media-attic']],
    ['tag:tv', ['media-eden', 'media-attic']],
    ['tag:tv,!location=attic', ['media-eden']],
    ['role=primary', ['media-eden']],
    ['location=attic', ['media-attic', 'nas']],
    ['group:family', ['media-eden']],
    ['!group:family', ['media-attic', 'nas']],
    ['label.owner=mum', ['media-eden']],
    ['role={primary,storage}', ['media-eden', 'nas']],
    ['tag:*', ['media-eden', 'media-attic', 'nas']],
    [' tag:tv , ! role=primary ', ['media-attic']],
    ['health=healthy', ['media-eden']],
  ])('%s selects %j', (text, names) => {
    expect(select(text)).toEqual(names);
  });

  it.each([
    ['', 'the selector is empty', 0],
    ['tag:tv,,nas', 'empty term', 7],
    ['tag:tv,', 'empty term', 7],
    ['!', '"!" needs a term', 0],
    ['tag:', '"tag:" needs a tag name', 0],
    ['colour=red', 'unknown field "colour"', 0],
    ['tag:tv,locaton=attic', 'did you mean "location"', 7],
    ['role=', 'needs a value', 0],
    ['tga:tv', 'unknown prefix "tga:" (did you mean "tag"?)', 0],
    ['media eden', 'not a server name', 0],
    ['group:a b', 'not a group name', 6],
  ])('rejects %j: %s', (text, reason, column) => {
    const error = failure(text);
    expect(error.code).toBe('E_SELECTOR');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(reason);
    // The caret line points at the bad token.
    const caretLine = error.message.split('\n')[2] ?? '';
    expect(caretLine.indexOf('^') - 2).toBe(column);
  });

  it('never throws anything but E_SELECTOR, whatever the input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (text) => {
      try {
        parseSelector(text);
      } catch (error) {
        expect(error).toBeInstanceOf(CisternError);
      }
    }));
  });

  it('negation selects exactly the complement', () => {
    fc.assert(fc.property(fc.constantFrom('tag:tv', 'role=primary', 'location=attic', 'media-*', 'group:family'), (term) => {
      const yes = select(term);
      const no = select(`!${term}`);
      expect([...yes, ...no].sort()).toEqual(all.map((s) => s.name).sort());
      expect(yes.filter((n) => no.includes(n))).toEqual([]);
    }));
  });
});
