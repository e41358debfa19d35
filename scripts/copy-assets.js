// `npm run build`, after tsc: files that are not TypeScript but ship with the code (the
// dashboard's HTML, CSS and browser JS) go to the same place under dist/.
import { cpSync, rmSync } from 'node:fs';

const ASSETS = ['controller/ui/static'];
for (const dir of ASSETS) {
  rmSync(`dist/${dir}`, { recursive: true, force: true });
  cpSync(`src/${dir}`, `dist/${dir}`, { recursive: true });
}
