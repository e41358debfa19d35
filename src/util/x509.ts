/**
 * The one way into @peculiar/x509. It resolves its algorithms through tsyringe, which throws at
 * import time unless a Reflect metadata polyfill is loaded. x509 records no constructor
 * metadata, so a small Map-backed stand-in for the three calls tsyringe makes is enough and
 * saves a dependency; it steps aside if a real polyfill (reflect-metadata) is already there.
 * Import x509 only from here, so the stand-in is installed before x509 loads.
 */
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as ReturnType<typeof x509.cryptoProvider.get>);

export { x509 };
