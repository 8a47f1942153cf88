#!/bin/sh
# scripts/bench-owner.sh - the owner analysis next to the dead-region pass,
# side by side on one generated heap (docs/benchmarks.md, "Owner analysis").
#
#   scripts/bench-owner.sh [N]       N live blocks (default 5000000), ~4N edges
#
# Builds release binaries into build-release/ (as scripts/bench.sh does),
# generates the heap with gen_log heap N, and runs bench_owner on it once:
# per step its CPU and wall time and the memory it adds.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-release"
n=${1:-5000000}
cd "$root"

if [ ! -d "$build" ]; then
	meson setup --buildtype=release "$build" >/dev/null
fi
nice meson compile -C "$build" analyzer/gen_log analyzer/bench_owner preload/sliceleak >/dev/null
log=$(mktemp /tmp/bench-owner.XXXXXX.sllog)
trap 'rm -f "$log"' EXIT
"$build/analyzer/gen_log" heap "$n" "$log"
echo "log: $(du -m "$log" | cut -f1) MiB for $n blocks"
"$build/analyzer/bench_owner" "$log"

# The exit scan that both analyses read, per 100 MiB of heap: its time (the
# shim's verbose line) and the log bytes it adds (scan=1 against scan=0),
# for a heap of pointers (every word an edge) and one of plain data.
cc -O2 -o "$build/scan_heap" "$root/scripts/bench/scan_heap.c"
dir=$(mktemp -d /tmp/bench-owner.XXXXXX)
trap 'rm -f "$log"; rm -rf "$dir"' EXIT
for fill in pointers data; do
	for scan in 0 1; do
		rm -f "$dir"/*.sllog
		LD_PRELOAD="$build/preload/libsliceleak.so" \
			SLICELEAK_OPTIONS="output=$dir/s.%p.sllog:scan=$scan:verbose=1:quiet=1" \
			"$build/scan_heap" "$fill" 100 2>"$dir/err" >/dev/null
		echo "scan_heap $fill 100 MiB, scan=$scan: log $(cat "$dir"/*.sllog | wc -c) bytes;" \
			"$(grep -o 'pointer scan:.*' "$dir/err" || echo 'no scan')"
	done
done
