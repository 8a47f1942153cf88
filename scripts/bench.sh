#!/bin/sh
# scripts/bench.sh - sliceleak side by side with heaptrack and valgrind massif.
#
#   scripts/bench.sh [--quick] [--runs N] [--workloads a,b] [--tools a,b] [--out DIR] [...]
#
# 1. builds the project in release mode into build-release/ (if the whole
#    tree fails to build, at least the shim, the analyzer and libslice);
# 2. builds the workloads of scripts/bench/ with -O2 -g, no frame pointers,
#    and scripts/bench/rx (static), into build-release/bench/;
# 3. runs scripts/bench/bench.py: every workload under every tool, N runs
#    each (default 3), then prints Markdown tables of medians.
#
# Every option after the build step is bench.py's: `scripts/bench.sh --help`.
# docs/benchmarks.md explains the columns. --quick: small sizes, 1 run,
# under a minute; for checking the script, not for quoting.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-release"
bin="$build/bench"
cd "$root"

case " $* " in
*" --help "* | *" -h "*)
	exec python3 "$root/scripts/bench/bench.py" --build "$build" --bin "$bin" --help ;;
esac

for tool in meson ninja gcc heaptrack heaptrack_print valgrind zstd python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "bench.sh: $tool not found" >&2; exit 2; }
done

echo "== release build: $build" >&2
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release >"$build.setup.log" 2>&1 ||
		{ cat "$build.setup.log" >&2; exit 2; }
fi
# The whole tree; if something unrelated to the benchmark fails to build (a
# warning turned error in a test program), say so and build only the three
# targets the benchmark runs.
if ! ninja -C "$build" -j2 >"$build.ninja.log" 2>&1; then
	grep -E 'FAILED|error' "$build.ninja.log" | head -5 >&2
	echo "bench.sh: the full release build failed (log: $build.ninja.log); building the shim, the analyzer and libslice only" >&2
	ninja -C "$build" -j2 preload/libsliceleak.so analyzer/sliceleak slice/libslice.so.0.1.0 >&2
fi

echo "== workloads: $bin" >&2
mkdir -p "$bin"
# -O2 -g without frame pointers, as distributions build
cc_bench() { gcc -O2 -g -fomit-frame-pointer -Wall -Wextra "$@"; }
cc_bench -pthread -o "$bin/alloc_bench" scripts/bench/alloc_bench.c
cc_bench -o "$bin/scan_heap" scripts/bench/scan_heap.c
cc_bench -I include -o "$bin/slice_bench" scripts/bench/slice_bench.c \
	-L "$build/slice" -lslice -Wl,-rpath,"$build/slice"
gcc -O2 -static -Wall -Wextra -o "$bin/rx" scripts/bench/rx.c

exec python3 "$root/scripts/bench/bench.py" --build "$build" --bin "$bin" "$@"
