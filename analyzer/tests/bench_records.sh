#!/bin/sh
# analyzer/tests/bench_records.sh - records per second of `sliceleak report`.
#   bench_records.sh SLICELEAK GEN_LOG [RECORDS] [STACKS]
# Generates a synthetic churn log (tests/gen_log.c: every allocation has a
# libslice view, 16384 live blocks), reports it three times with
# --no-symbols, and prints the best wall-clock and CPU rates and the peak
# resident memory. A measurement, not a test: `meson test --benchmark`.
# GEN_LOG_OPTS goes to gen_log before "bench": "--v2 --threads 2" measures
# format 2.0's merge of two threads' chunks.
set -eu
sliceleak=$1 gen_log=$2 n=${3:-20000000} stacks=${4:-4096}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086
"$gen_log" ${GEN_LOG_OPTS:-} bench "$n" "$stacks" "$tmp/bench.sllog"
records=$("$sliceleak" dump "$tmp/bench.sllog" | tail -n 1 | sed 's/.*records=\([0-9]*\).*/\1/')
bytes=$(wc -c <"$tmp/bench.sllog")
best_wall=999999 best_cpu=999999 rss=0
for i in 1 2 3; do
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$sliceleak" report --no-symbols \
		"$tmp/bench.sllog" >/dev/null
	read -r wall user sys kb <"$tmp/time"
	cpu=$(echo "$user + $sys" | bc)
	best_wall=$(echo "if ($wall < $best_wall) $wall else $best_wall" | bc)
	best_cpu=$(echo "if ($cpu < $best_cpu) $cpu else $best_cpu" | bc)
	rss=$kb
done
echo "log: $records records, $bytes bytes ($(echo "scale=2; $bytes / $records" | bc) B/record), $stacks stacks"
echo "wall: $best_wall s = $(echo "$records / $best_wall / 1000000" | bc) M records/s"
echo "cpu:  $best_cpu s = $(echo "$records / $best_cpu / 1000000" | bc) M records/s"
echo "max RSS: $rss KB"
