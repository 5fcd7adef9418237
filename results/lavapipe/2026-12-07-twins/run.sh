#!/usr/bin/env bash
# Quick twins on and off on lavapipe, alternating: ROUNDS rounds with Mesa's shader cache warm, then two with a
# fresh, empty cache folder each (MESA_SHADER_CACHE_DIR):  bash results/lavapipe/2026-12-07-twins/run.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=results/lavapipe/2026-12-07-twins
for r in $(seq 1 "${1:-4}"); do
  order="on off"; [ $((r % 2)) -eq 0 ] && order="off on"
  for t in $order; do echo -n "warm round $r: "; npx tsx $here/epoch.mts $t 2>/dev/null; done
done
for r in 1 2; do
  order="on off"; [ $((r % 2)) -eq 0 ] && order="off on"
  for t in $order; do d=$(mktemp -d); echo -n "cold round $r: "; MESA_SHADER_CACHE_DIR=$d npx tsx $here/epoch.mts $t 2>/dev/null; rm -rf "$d"; done
done
