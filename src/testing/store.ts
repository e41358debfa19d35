/** SQLite stores for tests: in a temp folder, closed after each test. */
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openStore, type Store } from '../controller/store/index.js';
import { tempDir } from './tmp.js';

const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

/** A store at `file` (default: a new temp database), closed when the test ends. */
export function testStore(file = join(tempDir(), 'cistern.db')): Store {
  const store = openStore(file);
  stores.push(store);
  return store;
}
