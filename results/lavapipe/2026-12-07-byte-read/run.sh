#!/usr/bin/env bash
# The 784-500-10 step at batch 128 on one adapter, this checkout against BEFORE (a checkout of the commit before
# the exact byte read, with node_modules), alternating, ROUNDS rounds:
#   bash results/lavapipe/2026-12-07-byte-read/run.sh BEFORE swiftshader|lavapipe [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
before=${1:?usage: run.sh BEFORE ADAPTER [ROUNDS]}; adapter=${2:?adapter}
for r in $(seq 1 "${3:-4}"); do
  order="now before"; [ $((r % 2)) -eq 0 ] && order="before now"
  for w in $order; do
    dir=.; [ $w = before ] && dir=$before
    row=$(cd "$dir" && npm run -s bench -- --adapter "$adapter" --only throughput --batch-size 128 --steps 60 2>&1 | grep -E '^128 +1 +none')
    echo "round $r $w: $row"
  done
done
