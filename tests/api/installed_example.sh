#!/bin/sh
# Install the build into a temporary root, then build tests/api/example_governor.c
# against it through pkg-config alone, and run it.
# usage: installed_example.sh BUILD_DIR SOURCE_ROOT HEADROOM_BIN HARDWARE_SPEC
set -eu
build=$1 src=$2 bin=$3 hw=$4
# gcc links the sanitizer runtime as libasan.so, clang statically: look for either
if ldd "$bin" 2>/dev/null | grep -q libasan || nm "$bin" 2>/dev/null | grep -q __asan_init; then
  echo "1..0 # SKIP sanitizer build: the example links the plain installed library"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --no-rebuild --destdir "$tmp" >"$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log"; exit 1; }
pcdir=$(dirname "$(find "$tmp" -name headroom.pc | head -n 1)")
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp"
flags=$(pkg-config --cflags --libs headroom)
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/example_governor" "$src/tests/api/example_governor.c" $flags
libdir=$(dirname "$(find "$tmp" -name 'libheadroom.so.0' | head -n 1)")
# The binary must resolve libheadroom from the install, not the build tree.
LD_LIBRARY_PATH="$libdir" ldd "$tmp/example_governor" | grep -q "$tmp" || {
  echo "example does not link the installed library"; exit 1; }
echo "1..1"
if LD_LIBRARY_PATH="$libdir" "$tmp/example_governor" "$bin" "$hw" >"$tmp/out" 2>&1; then
  sed 's/^/# /' "$tmp/out"
  echo "ok 1 - governor counts match headroom fit"
else
  sed 's/^/# /' "$tmp/out"
  echo "not ok 1 - governor counts match headroom fit"
fi
