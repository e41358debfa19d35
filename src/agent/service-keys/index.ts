/** The agent's service credentials: the admin's --service-keys file, else each app's own config file. */
export { loadServiceKeys, type AdminKeys } from './admin-file.js';
export { parseServiceKeys, type KeyFileProblem, type ParsedKeyFile } from './parse.js';
export { createKeyStore, type KeyStore, type KeyStoreOptions } from './store.js';
