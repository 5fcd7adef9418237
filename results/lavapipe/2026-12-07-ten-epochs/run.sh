#!/usr/bin/env bash
# The default 10-epoch run on each adapter in turn, alone on the machine: output, progress and /usr/bin/time -v's
# figures kept per adapter.   bash results/lavapipe/2026-12-07-ten-epochs/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=results/lavapipe/2026-12-07-ten-epochs
for a in lavapipe swiftshader; do
  /usr/bin/time -v npm run -s train -- --epochs 10 --adapter $a --json $here/train-10-epochs-$a.json > $here/train-10-epochs-$a.txt 2> $here/train-10-epochs-$a.stderr.txt
done
