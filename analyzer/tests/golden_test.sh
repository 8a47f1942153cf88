#!/bin/sh
# analyzer/tests/golden_test.sh - the committed tiny log against its committed
# expected outputs (--no-symbols text and JSON reports, dump), and proof that
# the committed log is exactly what the synthetic encoder writes today.
#   golden_test.sh SLICELEAK GEN_LOG GOLDEN_DIR
# Regenerate after an intended change: gen_log golden golden.sllog, then the
# three outputs with the commands below (run inside GOLDEN_DIR).
set -u
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
sliceleak=$(abs "$1") gen_log=$(abs "$2") dir=$3
pass=0 fail=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

check() { # name, then a command whose success is the check
	name=$1; shift
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}

"$gen_log" golden "$tmp/golden.sllog"
check "encoder output equals the committed log" cmp "$tmp/golden.sllog" "$dir/golden.sllog"

cd "$dir" || exit 2
"$sliceleak" report --no-symbols golden.sllog >"$tmp/out.txt"
check "report exit code" test $? -eq 0
check "text report" diff -u golden.txt "$tmp/out.txt"
"$sliceleak" report --no-symbols --format json golden.sllog >"$tmp/out.json"
check "json report" diff -u golden.json "$tmp/out.json"
"$sliceleak" report --no-symbols --at mid golden.sllog >"$tmp/mid.txt"
check "text report at snapshot mid" diff -u golden-mid.txt "$tmp/mid.txt"
"$sliceleak" dump golden.sllog >"$tmp/out.dump"
check "dump" diff -u golden.dump "$tmp/out.dump"
check "SUMMARY is the last line" sh -c "tail -n 1 '$tmp/out.txt' | grep -q '^SUMMARY: sliceleak: '"

echo "$pass passed, $fail failed"
test "$fail" -eq 0
