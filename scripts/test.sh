#!/bin/sh
# scripts/test.sh - the whole test suite, as CI runs it.
#
#  1. build/       the normal build (debugoptimized): every suite - unit
#                  tests, the shim end to end, the scenario programs, the
#                  export list;
#  2. build-asan/  the analyzer and libslice with AddressSanitizer and
#                  UndefinedBehaviorSanitizer (no shim: a malloc interposer and
#                  ASan do not mix): the unit suite again;
#  3. build-fuzz/  when clang's libFuzzer runtime is there: a short fuzz run of
#                  the log reader (suite 'fuzz').
#
# Ends with one line "N passed, N failed" counted over all three, and exits
# non-zero when anything failed.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
"$root/scripts/install-deps.sh" || exit 2

logs=""
status=0

# run_suite DIR "MESON SETUP OPTIONS" "MESON TEST OPTIONS"
run_suite() {
	dir=$1
	setup_opts=$2
	test_opts=$3
	echo "=== $dir: meson setup $setup_opts"
	if [ -d "$dir" ]; then
		# shellcheck disable=SC2086
		meson setup --reconfigure $setup_opts "$dir" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; status=1; return; }
	else
		# shellcheck disable=SC2086
		meson setup $setup_opts "$dir" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; status=1; return; }
	fi
	meson compile -C "$dir" || { status=1; return; }
	# shellcheck disable=SC2086
	meson test -C "$dir" --print-errorlogs --num-processes 2 $test_opts || status=1
	logs="$logs $dir/meson-logs/testlog.json"
}

rm -f build*/meson-logs/testlog.json
run_suite build "" ""
run_suite build-asan "-Dshim=false -Db_sanitize=address,undefined -Db_lundef=false" "--suite unit"
if [ -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
	export CC=clang CXX=clang++
	run_suite build-fuzz "-Dshim=false -Dfuzz=true" "--suite fuzz"
	unset CC CXX
fi

# Count meson's per-test results (one JSON object per line in testlog.json).
python3 - $logs <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
open("build/test-counts.txt", "w").write(f"{passed} {failed} {skipped}\n")
PY
read -r passed failed skipped <build/test-counts.txt 2>/dev/null || { passed=0; failed=1; skipped=0; }
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1 # a build or setup failure counts
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
