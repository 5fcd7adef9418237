#!/usr/bin/env bash
# Measures this engine against PyTorch on one NVIDIA GPU in one go: autotune, epoch and step timings with the
# tuned and the shipped default variants, a 10-epoch training run, the variants of every kernel family on
# every step product, and PyTorch (eager, fused, CUDA graph) on the same GPU and the same models.
# Here:  bash ../shared/gpu/pack.sh src/cli/train.ts src/cli/bench.ts src/cli/autotune.ts
# There: bash .gpu/unpack-and-run.sh bash "$PWD/scripts/gpu-measure.sh" OUT_DIR [tune] [defaults] [torch] [train] [kernels] [matmul]
# (no part named: all of them). Everything printed goes to OUT_DIR/log.txt too; the JSON results beside it, and
# the commit measured in OUT_DIR/commit.txt (GIT_COMMIT when the copy has no .git); each bench JSON holds the adapter, the device limits and features. A command that fails, a
# bench whose variants fail their float64 verification included, stops the run with its exit status.
set -uo pipefail
out=${1:?usage: gpu-measure.sh OUT_DIR [tune] [defaults] [torch] [train] [kernels] [matmul]}
shift
parts=" ${*:-tune defaults torch train kernels matmul} "
mkdir -p "$out"
log="$out/log.txt"
run() {
  echo "== $*" | tee -a "$log"
  "$@" 2>&1 | tee -a "$log"
  local status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ]; then echo "== FAILED (exit $status): $*" | tee -a "$log"; exit "$status"; fi
}
want() { [[ $parts == *" $1 "* ]]; }
(git rev-parse HEAD 2>/dev/null || echo "${GIT_COMMIT:-unknown}") > "$out/commit.txt"
run nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv
if want tune; then
  run node autotune.mjs --adapter system --hidden 500 --batch-size 128 --fresh --json "$out/tune-500.json"
  run node autotune.mjs --adapter system --hidden 4096,4096 --batch-size 1024 --fresh --json "$out/tune-4096.json"
  run node bench.mjs --adapter system --autotune --only throughput,epoch,step --batch-size 128 --json "$out/tuned-500.json"
  run node bench.mjs --adapter system --autotune --only epoch,step --hidden 4096,4096 --batch-size 1024 --steps-per-submit 1 --json "$out/tuned-4096.json"
fi
if want defaults; then
  run node bench.mjs --adapter system --only throughput,epoch,step --batch-size 128 --json "$out/defaults-500.json"
  run node bench.mjs --adapter system --only epoch,step --hidden 4096,4096 --batch-size 1024 --steps-per-submit 1,4 --json "$out/defaults-4096.json"
fi
if want torch; then
  run env BATCHES=128 python3 torch_gpu.py
  run env HIDDEN=4096,4096 BATCHES=1024 python3 torch_gpu.py
fi
if want train; then run node train.mjs --adapter system --epochs 10; fi
if want kernels; then run node bench.mjs --adapter system --only kernels --json "$out/kernels.json"; fi
if want matmul; then run timeout "${MATMUL_SECONDS:-300}" node bench.mjs --adapter system --only matmul --json "$out/matmul.json"; fi
