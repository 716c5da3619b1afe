#!/bin/sh
# The exported symbols of libheadroom.so must equal the HR_API declarations
# of the public headers: nothing internal leaks, nothing documented is missing.
# usage: abi_check.sh LIBHEADROOM_SO INCLUDE_DIR
set -eu
lib=$1 inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -h 'HR_API' "$inc"/headroom/*.h | grep -v '#' |
  sed -E 's/^.*[ *](hr_[a-z0-9_]+)\(.*$/\1/' | sort -u >"$tmp/documented"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^_' | sort -u >"$tmp/exported"
echo "1..2"
if diff -u "$tmp/documented" "$tmp/exported" >"$tmp/diff"; then
  echo "ok 1 - exported symbols equal the documented API ($(wc -l <"$tmp/exported") symbols)"
else
  echo "not ok 1 - exported symbols differ from the documented API"
  sed 's/^/# /' "$tmp/diff"
fi
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
if [ "$soname" = "libheadroom.so.0" ]; then
  echo "ok 2 - soname is $soname"
else
  echo "not ok 2 - soname is '$soname', expected libheadroom.so.0"
fi
