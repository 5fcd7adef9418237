// Writes the registry's layer table into docs/guides/layers.md (between its markers): `npm run docs:layers`.
import { readFileSync, writeFileSync } from 'node:fs';
import { withLayerTable } from '../src/layers/layerTable.js';

const file = new URL('../docs/guides/layers.md', import.meta.url);
const before = readFileSync(file, 'utf8');
const after = withLayerTable(before);
writeFileSync(file, after);
console.log(after === before ? 'docs/guides/layers.md: the layer table is up to date' : 'docs/guides/layers.md: the layer table is rewritten from the registry');
