#!/bin/sh
# scripts/install.sh - the set-up in one command: install the Debian packages,
# build (build/), install under /usr/local (`sliceleak` on PATH, the shim
# libsliceleak.so, libslice.so with its pkg-config file, the headers), then
# ldconfig, so that programs linked with -lslice find libslice.so at once.
# Needs root (or sudo) for the packages and the install; idempotent.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
scripts/build.sh
$sudo meson install -C build --no-rebuild --quiet
$sudo ldconfig
shim=/usr/local/lib/$(cc -print-multiarch)/libsliceleak.so
if [ ! -f "$shim" ]; then
	echo "install: $shim is missing (is /usr/local the prefix of build/?)" >&2
	exit 1
fi
echo "install: sliceleak is $(command -v sliceleak || echo 'not on PATH (add /usr/local/bin)');" \
	"the shim is $shim"
