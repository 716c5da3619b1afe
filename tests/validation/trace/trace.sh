#!/bin/sh
# Allocation-by-allocation check of headroom's compute-graph replay against
# the real ggml-alloc: llama.cpp v0.5.0 (the source node-llama-cpp ships in
# its npm package) built with a print per allocation, headroom built with
# one per replayed node and without its layer skipping; for each model
# shape and each setting of cases.json, the first reserve graph's
# allocations must have the same sizes at the same offsets.
#
# usage: tests/validation/trace/trace.sh BUILD_DIR [MODEL.yaml ...]
#   BUILD_DIR: a headroom build that has run the validation suite once
#   (its work folder holds node-llama-cpp); default models: all of
#   tests/validation/models. Needs git, cmake, a C++ compiler, node; builds
#   llama.cpp's CPU library once (a few minutes) under BUILD_DIR.
set -eu
build=$(cd "${1:?usage: trace.sh BUILD_DIR [MODEL.yaml ...]}" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
work=$build/tests/validation/trace-work
bundle=$build/tests/validation/work/node_modules/node-llama-cpp/llama/gitRelease.bundle
mkdir -p "$work"

lb=$work/llama-build
if [ ! -f "$lb/src/libllama.a" ]; then
    [ -f "$bundle" ] || { echo "no $bundle: run meson test -C $build --suite validation first"; exit 1; }
    rm -rf "$work/llama.cpp" "$lb"
    git -c advice.detachedHead=false clone -q "$bundle" "$work/llama.cpp"
    git -C "$work/llama.cpp" apply "$here/ggml-alloc-trace.patch"
    cmake -S "$work/llama.cpp" -B "$lb" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
        -DGGML_OPENMP=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF > "$work/cmake.log"
    cmake --build "$lb" --target llama -j "$(nproc)" > "$work/build.log"
fi
if [ ! -x "$work/reserve" ] || [ "$here/reserve.cpp" -nt "$work/reserve" ]; then
    c++ -O1 -std=c++17 "$here/reserve.cpp" -I"$work/llama.cpp/include" -I"$work/llama.cpp/ggml/include" \
        "$lb/src/libllama.a" "$lb/ggml/src/libggml.a" "$lb/ggml/src/libggml-cpu.a" \
        "$lb/ggml/src/libggml-base.a" -lpthread -ldl -lm -o "$work/reserve"
fi

# headroom's working tree, traced (rebuilt each run: it follows your edits)
rm -rf "$work/headroom-src"
mkdir -p "$work/headroom-src"
(cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - 2>/dev/null) |
    tar -xf - -C "$work/headroom-src"
# (outside any repository: the build folder may sit inside headroom's)
(cd "$work/headroom-src" &&
    GIT_CEILING_DIRECTORIES="$work" git apply "$here/headroom-trace.patch")
[ -d "$work/headroom-build" ] ||
    meson setup "$work/headroom-build" "$work/headroom-src" -Dc_args=-DHR_TRACE_ALLOC \
        -Dvalidation=disabled > "$work/meson.log"
meson compile -C "$work/headroom-build" tui/headroom > "$work/compile.log"

[ $# -gt 0 ] || set -- "$src"/tests/validation/models/*.yaml
settings=$(node -e '
const c = require(process.argv[1]);
const id = {F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, IQ4_NL: 20, BF16: 30};
for (const x of c.cases)
    console.log([x.ctx, x.seqs, x.batch, x.fa ? 1 : 0, x.k, x.v, id[x.k], id[x.v]].join(" "));
' "$src/tests/validation/cases.json")
results=$work/results.txt
: > "$results"
for yaml in "$@"; do
    name=$(basename "$yaml" .yaml)
    gguf=$work/$name.gguf
    "$build/tests/validation/gen_gguf" "$yaml" "$gguf" > /dev/null
    # headroom plans an embedding model (embedding_only) as an embedding context
    emb=0 emb_flag=
    grep -q '^embedding_only: *true' "$yaml" && emb=1 emb_flag=--embeddings
    echo "$settings" | while read -r ctx seqs batch fa k v kid vid; do
        fa_word=off; [ "$fa" = 1 ] && fa_word=on
        "$work/headroom-build/tui/headroom" plan "$gguf" --ctx-size "$ctx" --parallel "$seqs" \
            --batch-size "$batch" --ubatch-size "$batch" --flash-attn "$fa_word" \
            --cache-type-k "$(echo "$k" | tr A-Z a-z)" --cache-type-v "$(echo "$v" | tr A-Z a-z)" $emb_flag \
            > /dev/null 2> "$work/headroom.trace" || true
        GA_TRACE=1 "$work/reserve" "$gguf" "$ctx" "$seqs" "$batch" "$fa" "$kid" "$vid" "$emb" \
            > /dev/null 2> "$work/ggml.trace" || true
        line=$(printf '%s ctx %s seqs %s batch %s fa %s %s/%s: ' "$name" "$ctx" "$seqs" "$batch" \
            "$fa_word" "$k" "$v")
        echo "$line$(node "$here/compare.mjs" "$work/ggml.trace" "$work/headroom.trace")" |
            tee -a "$results"
    done
done
n_same=$(grep -c ': same:' "$results" || true)
n_diff=$(grep -vc ': same:' "$results" || true)
echo "$n_same reserve graphs allocated alike, $n_diff different"
[ "$n_diff" -eq 0 ]
