#!/bin/sh
# scripts/demo.sh - the main job in one command: install the packages, build,
# run the Go capacity leak (1000 messages of 1 MiB, each kept alive by
# its 5-byte type) under the shim, and print sliceleak's report of it.
#
#   scripts/demo.sh [PROGRAM-ARGS...]   default: capacity_leak leaky
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/build.sh

logdir=$(mktemp -d "${TMPDIR:-/tmp}/sliceleak-demo.XXXXXX")
[ $# -gt 0 ] || set -- leaky
echo "== running: sliceleak run -- capacity_leak $* (logs in $logdir)"
status=0
build/analyzer/sliceleak run -o "$logdir/capacity_leak.%p.sllog" --top 3 -- \
	build/test-programs/patterns/capacity_leak-O2 "$@" || status=$?
echo "== the CI gate on the same log: sliceleak check --max-retained 10MiB"
build/analyzer/sliceleak check --max-retained 10MiB "$logdir"/*.sllog || true
exit "$status"
