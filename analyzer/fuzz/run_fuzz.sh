#!/bin/sh
# analyzer/fuzz/run_fuzz.sh - a bounded libFuzzer run (meson test --suite fuzz).
#
#   run_fuzz.sh FUZZER SEED_CORPUS WORKDIR SECONDS
#
# New inputs go to WORKDIR/corpus (never into the repository's seed corpus);
# a crash, leak or hang leaves its input in WORKDIR/artifacts/ and makes the
# run fail. -timeout=10 bounds one input (a hang is a failure).
set -eu
fuzzer=$1 seeds=$2 work=$3 secs=$4
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
