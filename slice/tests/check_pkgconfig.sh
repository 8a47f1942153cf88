#!/bin/sh
# slice/tests/check_pkgconfig.sh CC BUILD_ROOT SOURCE_DIR - the pkg-config file
# is enough to build and run a program against libslice. Uses the uninstalled
# variant meson writes next to the installed one (same Name, Libs, Cflags
# shape), so the test needs no install step.
set -eu

cc=$1
build=$2
src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export PKG_CONFIG_PATH="$build/meson-uninstalled"
pkg-config --exists slice-uninstalled || {
	echo "check_pkgconfig: no slice-uninstalled.pc in $PKG_CONFIG_PATH" >&2
	exit 1
}
# shellcheck disable=SC2046 # word splitting of the flags is the point
$cc $(pkg-config --cflags slice-uninstalled) "$src/pkgconfig_consumer.c" \
	$(pkg-config --libs slice-uninstalled) -o "$tmp/consumer"
out=$(LD_LIBRARY_PATH="$build/slice" "$tmp/consumer")
if [ "$out" != "world!" ]; then
	echo "check_pkgconfig: consumer printed '$out', want 'world!'" >&2
	exit 1
fi
echo "check_pkgconfig: ok"
