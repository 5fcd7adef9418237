#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for WebGPU without a GPU, then the npm packages.
#   chromium   ships the SwiftShader Vulkan driver (software WebGPU) and the browser for headless runs
#   libvulkan1 the Vulkan loader that Dawn (npm `webgpu`) opens
#   python3-torch  PyTorch, for the interop test (the engine's files load into nn.Sequential and back)
# and Mesa's lavapipe, the faster software Vulkan driver, where it can (scripts/lavapipe.sh; optional).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || missing+=(chromium)
dpkg -s libvulkan1 >/dev/null 2>&1 || missing+=(libvulkan1)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (apt-get)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash scripts/lavapipe.sh || echo "setup: lavapipe skipped; SwiftShader will be used"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund  # onnxruntime-node ships its CPU binaries; skip its CUDA download
fi
# lavapipe compiles each kernel through LLVM at its first dispatch (about 0.1 s each) and keeps it in Mesa's
# shader cache: one tiny run compiles the default model's kernels now, so the first `npm run train` starts warm.
if node --import tsx src/cli/train.ts --adapter lavapipe --epochs 1 --limit 256 --validation-size 0 >/dev/null 2>&1; then
  echo "setup: lavapipe's kernels for the default model compiled into Mesa's shader cache"
fi
echo "setup: ok"
