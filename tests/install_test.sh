#!/usr/bin/env bash
# install_test.sh: `cmake --install` puts the program, library, header and pkg-config file in a prefix,
# and a C program outside the tree builds against them with pkg-config and runs.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name alexnet-cl.pc | head -n1)")/..
for f in bin/alexnet-cl include/alexnet_cl.h; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Werror "$src/tests/install/example.c" -o "$prefix/example" $(pkg-config --cflags --libs alexnet-cl)
LD_LIBRARY_PATH="$libdir" "$prefix/example"
"$prefix/bin/alexnet-cl" --version
echo "1 passed, 0 failed"
