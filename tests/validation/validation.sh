#!/bin/sh
# The validation suites: install the real llama.cpp (npm node-llama-cpp) when
# node and npm are present, then run validate.mjs.
#   CPU suite: the CPU build only.
#   --gpu:     the Vulkan build as well, on Mesa's software Vulkan device
#              (lavapipe, Debian's mesa-vulkan-drivers): GPU layers, op offload
#              and the scheduler's copies, with no GPU in the machine.
# usage: validation.sh HEADROOM_BIN GEN_GGUF SOURCE_DIR WORK_DIR [--gpu]
set -eu
bin=$1 gen=$2 src=$3 work=$4 mode=${5:-}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node and npm are needed to install node-llama-cpp (a real llama.cpp); validation not run"
  exit 77
fi
pkgs="node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1"
have=linux-x64
if [ "$mode" = "--gpu" ]; then
  if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
    echo "SKIP: no lavapipe Vulkan driver (Debian package mesa-vulkan-drivers); GPU validation not run"
    exit 77
  fi
  pkgs="$pkgs @node-llama-cpp/linux-x64-vulkan@3.22.1"
  have=linux-x64-vulkan
fi
mkdir -p "$work"
if [ ! -d "$work/node_modules/@node-llama-cpp/$have" ]; then
  # Only the builds used: the other optional GPU builds are several hundred MB.
  (cd "$work" && [ -f package.json ] || (cd "$work" && npm init -y >/dev/null))
  (cd "$work" && npm install --no-audit --no-fund --omit=optional $pkgs >npm-install.log 2>&1) || {
    echo "npm install of node-llama-cpp failed:"; tail -20 "$work/npm-install.log"; exit 1; }
fi
# run_llama.mjs imports node-llama-cpp: resolve it from the work dir.
cp "$src/run_llama.mjs" "$work/run_llama.mjs"
mkdir -p "$work/src"
cp "$src/cases.json" "$work/src/cases.json"
cp "$src/run_llama.mjs" "$work/src/run_llama.mjs"
rm -rf "$work/src/models" && cp -r "$src/models" "$work/src/models"
rm -f "$work/src/node_modules" && ln -s "$work/node_modules" "$work/src/node_modules"
exec node "$src/validate.mjs" "$bin" "$gen" "$work/src" "$work/models" $mode ${VALIDATION_FLAGS:-}
