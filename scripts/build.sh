#!/bin/sh
# scripts/build.sh - the packages (install-deps.sh), then the normal build in
# build/ (configured once, reconfigured after), quietly. Used by install.sh
# and demo.sh.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
# Debian's multiarch libdir, where ldconfig looks and the README says the shim
# is, also in a build/ configured before dpkg-dev was there.
libdir=lib/$(cc -print-multiarch)
if [ -d build ]; then
	meson setup --reconfigure --libdir "$libdir" build >/dev/null
else
	meson setup --libdir "$libdir" build >/dev/null
fi
meson compile -C build >/dev/null
