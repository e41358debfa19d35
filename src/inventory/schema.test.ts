import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ORIGINAL_FORMAT, RICHLY_COMMENTED } from '../testing/fixtures.js';
import { inventoryJsonSchema } from './schema.js';

// The JSON Schema is what editors (yaml-language-server) check files with: it must accept what
// Cistern accepts and refuse what the zod schema refuses.
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile(inventoryJsonSchema());

describe('the JSON Schema', () => {
  it('accepts the original format, the example and a commented file', () => {
    for (const text of [ORIGINAL_FORMAT, RICHLY_COMMENTED, readFileSync('examples/inventory.yaml', 'utf8')]) {
      expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('refuses a malformed MAC and an unknown role', () => {
    expect(validate({ servers: { eden: { hostname: 'eden', mac_address: 'zz' } } })).toBe(false);
    expect(validate({ servers: { eden: { hostname: 'eden', role: 'boss' } } })).toBe(false);
    expect(validate({ servers: { eden: { role: 'primary' } } })).toBe(false);
  });

  it('is the one committed in docs/ for editors', () => {
    expect(JSON.parse(readFileSync('docs/inventory.schema.json', 'utf8'))).toEqual(inventoryJsonSchema());
  });
});
