#!/bin/sh
# scripts/build.sh - the packages (install-deps.sh), then the normal build in
# build/ (configured once, reconfigured after), quietly. Used by install.sh
# and demo.sh.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
if [ -d build ]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
meson compile -C build >/dev/null
