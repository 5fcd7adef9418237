#!/usr/bin/env bash
# The two software adapters side by side on this machine, alternating (which goes first alternates too), so both
# see the same load; every command's raw output is kept in OUT:
#   bash scripts/bench-adapters.sh OUT [ROUNDS]
# Per round and adapter A:
#   npm run bench -- --adapter A --only throughput --batch-size 128 --steps 60            (784-500-10, Adam)
#   npm run train -- --adapter A --layers <the README's CNN> --epochs 1 --limit 5000 --validation-size 0
# then a summary of samples/s and CNN epoch seconds, with the ratios lavapipe / SwiftShader.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash scripts/bench-adapters.sh OUT [ROUNDS]}
rounds=${2:-3}
cnn=conv2d:8:k=5,relu,maxpool2d:2,conv2d:16:k=5,relu,maxpool2d:2,flatten,linear:128,relu,dropout:0.25,linear:10
mkdir -p "$out"
git rev-parse HEAD > "$out/commit.txt"
for r in $(seq 1 "$rounds"); do
  order="swiftshader lavapipe"
  [ $((r % 2)) -eq 0 ] && order="lavapipe swiftshader"
  for a in $order; do
    echo "round $r: $a"
    npm run -s bench -- --adapter "$a" --only throughput --batch-size 128 --steps 60 > "$out/mlp-$a-$r.txt" 2>&1
    npm run -s train -- --adapter "$a" --layers "$cnn" --epochs 1 --limit 5000 --validation-size 0 > "$out/cnn-$a-$r.txt" 2>&1
  done
done
node - "$out" "$rounds" <<'JS'
const fs = require('fs');
const [out, rounds] = process.argv.slice(2);
const read = (f) => fs.readFileSync(`${out}/${f}`, 'utf8');
const rows = [];
for (const a of ['swiftshader', 'lavapipe']) {
  const mlp = [], cnn = [];
  for (let r = 1; r <= +rounds; r++) {
    // the throughput table's row: batch, steps per submit, augment, samples/s, ms/step
    mlp.push(+read(`mlp-${a}-${r}.txt`).match(/^128 +1 +none +([\d,]+)/m)[1].replace(/,/g, ''));
    cnn.push(+read(`cnn-${a}-${r}.txt`).match(/^epoch +1 .* ([\d.]+)s +[\d,]+ samples\/s$/m)[1]);
  }
  rows.push({ a, mlp, cnn });
}
const [s, l] = rows;
for (const { a, mlp, cnn } of rows) console.log(`${a}: MLP batch 128 ${mlp.join(', ')} samples/s; CNN epoch of 5,000 ${cnn.join(', ')} s`);
const ratios = (x, y, f) => x.map((v, i) => f(v, y[i]).toFixed(2)).join(', ');
console.log(`lavapipe / SwiftShader, per round: MLP ${ratios(l.mlp, s.mlp, (a, b) => a / b)}×; CNN epoch ${ratios(l.cnn, s.cnn, (a, b) => b / a)}×`);
JS
