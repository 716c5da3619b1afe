#!/bin/sh
# The whole test suite: install the Debian packages if missing (lavapipe, for
# the GPU validation grid, when it can), then build and
# test twice — a normal build and an ASan+UBSan build — then the unit suite of the
# normal build again under valgrind. Used by README and .ci/run.
set -eu
cd "$(dirname "$0")/.."
PKGS="meson ninja-build pkg-config gcc clang libncurses-dev libcjson-dev libyaml-dev libcmocka-dev tmux valgrind"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
fi
# Mesa's software Vulkan device (lavapipe) for the GPU validation grid: wanted,
# not needed (the grid skips without it), so a failed install only says so.
if ! dpkg -s mesa-vulkan-drivers >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y mesa-vulkan-drivers >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y mesa-vulkan-drivers >/dev/null 2>&1; } ||
    echo "mesa-vulkan-drivers not installed: the GPU validation grid will be skipped"
fi
[ -d build/meson-private ] || meson setup build
# everything, installable targets included (the installed-example test installs them)
meson compile -C build
meson test -C build --print-errorlogs "$@"
[ -d build-asan/meson-private ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dvalidation=disabled
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --no-suite validation --no-suite bench "$@"
# valgrind (memcheck) over the unit suite on the normal build: any error or
# definite leak fails. Children are traced, so the headroom binary that the CLI
# and hostile-input tests run is checked too (exit 97 marks a valgrind error
# there); system programs under /usr and /bin (shells, tmux, compilers) are not.
# Left out: tui (tmux drives a pty), abi and installed-example (they run the
# toolchain).
VALGRIND_SKIP=" tui abi installed-example "
vg_tests=""
for t in $(meson test -C build --no-rebuild --list --suite unit 2>/dev/null | sed -n 's|^.* / ||p'); do
  case "$VALGRIND_SKIP" in *" $t "*) ;; *) vg_tests="$vg_tests $t" ;; esac
done
meson test -C build --no-rebuild --print-errorlogs --timeout-multiplier=20 \
  --wrap="valgrind --quiet --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --trace-children=yes --trace-children-skip=/usr/*,/bin/*,/sbin/*" \
  $vg_tests
