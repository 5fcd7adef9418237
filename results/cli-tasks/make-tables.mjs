// Writes the two tables the CLI runs in this folder train on, from a fixed seed:
//   regression.csv  x1..x4 uniform in [-1, 1]; y = sin(πx1)·x2 + x3² − 0.5·x4 + noise (σ 0.05)
//   multilabel.csv  x1..x6 normal; three yes/no labels: x1 > 0, x2 + x3 > 0, x4·x5 > 0
// usage: node results/cli-tasks/make-tables.mjs OUT_DIR [ROWS]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out = '.', rowsText = '4000'] = process.argv.slice(2);
const rows = Number(rowsText);
let state = 12345;
const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());

const regression = ['x1,x2,x3,x4,y'];
for (let i = 0; i < rows; i++) {
  const x = Array.from({ length: 4 }, () => uniform() * 2 - 1);
  const y = Math.sin(Math.PI * x[0]) * x[1] + x[2] ** 2 - 0.5 * x[3] + 0.05 * normal();
  regression.push([...x, y].map((v) => v.toFixed(5)).join(','));
}
writeFileSync(join(out, 'regression.csv'), regression.join('\n') + '\n');

const multilabel = ['x1,x2,x3,x4,x5,x6,positive,sum_positive,product_positive'];
for (let i = 0; i < rows; i++) {
  const x = Array.from({ length: 6 }, normal);
  const labels = [x[0] > 0, x[1] + x[2] > 0, x[3] * x[4] > 0].map(Number);
  multilabel.push([...x.map((v) => v.toFixed(5)), ...labels].join(','));
}
writeFileSync(join(out, 'multilabel.csv'), multilabel.join('\n') + '\n');
console.log(`wrote ${rows} rows each to ${join(out, 'regression.csv')} and ${join(out, 'multilabel.csv')}`);
