#!/bin/sh
# The whole test suite: install the Debian packages if missing, then build and
# test twice — a normal build and an ASan+UBSan build. Used by README and .ci/run.
set -eu
cd "$(dirname "$0")/.."
PKGS="meson ninja-build pkg-config gcc clang libncurses-dev libcjson-dev libyaml-dev libcmocka-dev tmux valgrind"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
fi
[ -d build/meson-private ] || meson setup build
meson test -C build --print-errorlogs "$@"
[ -d build-asan/meson-private ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dvalidation=disabled
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --no-suite validation --no-suite bench "$@"
