#!/bin/sh
# The validation suite: install the real llama.cpp (npm node-llama-cpp, CPU build
# only) when node and npm are present, then run validate.mjs.
# usage: validation.sh HEADROOM_BIN GEN_GGUF SOURCE_DIR WORK_DIR
set -eu
bin=$1 gen=$2 src=$3 work=$4
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node and npm are needed to install node-llama-cpp (a real llama.cpp); validation not run"
  exit 77
fi
mkdir -p "$work"
if [ ! -d "$work/node_modules/@node-llama-cpp/linux-x64" ]; then
  # Only the CPU build: the optional GPU builds are several hundred MB.
  (cd "$work" && [ -f package.json ] || (cd "$work" && npm init -y >/dev/null)) 
  (cd "$work" && npm install --no-audit --no-fund --omit=optional \
      node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1 >npm-install.log 2>&1) || {
    echo "npm install of node-llama-cpp failed:"; tail -20 "$work/npm-install.log"; exit 1; }
fi
# run_llama.mjs imports node-llama-cpp: resolve it from the work dir.
cp "$src/run_llama.mjs" "$work/run_llama.mjs"
mkdir -p "$work/src"
cp "$src/cases.json" "$work/src/cases.json"
cp "$src/run_llama.mjs" "$work/src/run_llama.mjs"
rm -rf "$work/src/models" && cp -r "$src/models" "$work/src/models"
rm -f "$work/src/node_modules" && ln -s "$work/node_modules" "$work/src/node_modules"
exec node "$src/validate.mjs" "$bin" "$gen" "$work/src" "$work/models" ${VALIDATION_FLAGS:-}
