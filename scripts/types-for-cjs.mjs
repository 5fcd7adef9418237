// The declarations for CommonJS consumers (exports condition "require"): the same files in a folder whose
// package.json says "type": "commonjs", so that TypeScript (module node16/nodenext) reads them as describing the
// .cjs files a `require` loads, not the ES modules. One copy per TypeScript range (dist/types, dist/types-ts6).
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

for (const from of ['dist/types', 'dist/types-ts6']) {
  const to = `${from}-cjs`;
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  writeFileSync(join(to, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
}
