#!/bin/sh
# Write the seed corpus for one target, then replay seeds and kept crashers.
# usage: replay.sh GEN_SEEDS REPLAY_BIN TARGET REGRESSION_DIR
set -eu
gen=$1 replay=$2 target=$3 regressions=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" "$target" "$tmp" >/dev/null
"$replay" "$tmp" "$regressions" # not exec: the trap removes $tmp
