#!/bin/sh
# scripts/install-deps.sh - install every Debian package sliceleak needs to
# build, test and benchmark: dpkg-dev because meson asks its
# dpkg-architecture for Debian's multiarch libdir (lib/x86_64-linux-gnu, where
# ldconfig looks; lib64 without it); heaptrack, valgrind, zstd and mawk for
# scripts/bench.sh; time for the analyzer's memory-bound test; chromium and
# golang-go for the HTML and pprof report tests; sqlite3 and libglib2.0-dev
# for the runtime-noise test; libglib2.0-dev and python3-numpy for the
# owner-finding programs of test-programs/owner/.
# Idempotent: when everything is present it does nothing (no apt-get update,
# no network). Needs root (or sudo) otherwise.
set -eu

packages="
	gcc g++ clang libclang-rt-14-dev
	meson ninja-build pkg-config dpkg-dev
	libunwind-dev uthash-dev libdw-dev libelf-dev
	python3 perl git coreutils binutils time
	libc6-dbg
	heaptrack valgrind zstd mawk
	libjemalloc2 libtcmalloc-minimal4 golang-go
	chromium zlib1g-dev
	sqlite3 libglib2.0-dev python3-numpy
"

missing=""
for p in $packages; do
	# dpkg-query prints "install ok installed" only for a fully installed package.
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
echo "install-deps: installing:$missing"
$sudo apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
