#!/bin/sh
# analyzer/tests/cli_test.sh - the command line's contract: exit codes 0/1/2,
# the agreed error format, truncated logs reported (not errors), `check`
# limits, `run` passing the command's exit status through.
#   cli_test.sh SLICELEAK GEN_LOG DOCS_DIR
set -u
sliceleak=$1 gen_log=$2 docs=$3
pass=0 fail=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

expect() { # expected exit code, description, command...
	want=$1 name=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $name: exit $got, want $want"; cat "$tmp/err"; fi
}
grep_out() { # description, pattern, file
	if grep -q -- "$2" "$3"; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $1: no '$2' in $3:"; cat "$3"; fi
}

"$gen_log" golden "$tmp/g.sllog"
size=$(wc -c <"$tmp/g.sllog")

expect 0 "--help" "$sliceleak" --help
grep_out "--help lists exit codes" "exit codes" "$tmp/out"
expect 0 "--version" "$sliceleak" --version
# the default suppressions: printed, a valid suppressions file, documented line by line
expect 0 "--default-suppressions" "$sliceleak" --default-suppressions
cp "$tmp/out" "$tmp/defaults"
expect 0 "the defaults are a suppressions file" "$sliceleak" report --no-symbols \
	--no-default-suppressions --suppressions "$tmp/defaults" "$tmp/g.sllog"
grep -v '^#' "$tmp/defaults" | while read -r line; do
	grep -qxF -- "$line" "$docs/suppressions.md" || echo "$line"
done >"$tmp/undocumented"
if [ -s "$tmp/undocumented" ]; then fail=$((fail + 1)); echo "FAIL: not in docs/suppressions.md:"
	cat "$tmp/undocumented"; else pass=$((pass + 1)); fi
expect 2 "no command" "$sliceleak"
expect 2 "unknown command" "$sliceleak" frobnicate
expect 2 "unknown option" "$sliceleak" report --frob "$tmp/g.sllog"
expect 2 "bad size" "$sliceleak" check --max-retained 10parsecs "$tmp/g.sllog"
# sizes are integers with an optional unit right after them, nothing else
for bad in 0x1p4 1e3KiB "10 MiB" 0.5B 1.5MiB -1 18446744073709551616 17179869184GiB; do
	expect 2 "bad size '$bad'" "$sliceleak" check --max-retained "$bad" "$tmp/g.sllog"
	grep_out "bad size '$bad' is named" "bad size" "$tmp/err"
done
expect 0 "size 2^64-1" "$sliceleak" check --no-symbols --max-retained 18446744073709551615 "$tmp/g.sllog"
expect 2 "check without a limit" "$sliceleak" check "$tmp/g.sllog"
expect 2 "report without logs" "$sliceleak" report
expect 2 "missing log" "$sliceleak" report "$tmp/missing.sllog"
grep_out "missing log names the file" "missing.sllog" "$tmp/err"

# --trace-block: the block holding the address, from its allocation to the verdict
expect 0 "trace a pinned block" "$sliceleak" report --no-symbols --trace-block 0x7f0000000010 \
	"$tmp/g.sllog"
grep_out "trace: allocation" "trace 0x7f0000000000: allocated, 1048576 bytes" "$tmp/err"
grep_out "trace: verdict" "trace 0x7f0000000000: 1 live views use 5 of 1048576 bytes.*a view_pinned finding" "$tmp/err"
expect 0 "trace a block that goes" "$sliceleak" report --no-symbols --trace-block 0x600000001000 \
	"$tmp/g.sllog"
grep_out "trace: free" "trace 0x600000001000: freed at" "$tmp/err"
# at a snapshot the log is replayed twice (whole, then to the label): each event is said once
expect 0 "trace at a label" "$sliceleak" report --no-symbols --at mid --trace-block 0x7f0000000010 \
	"$tmp/g.sllog"
n=$(grep -c "allocated, 1048576 bytes" "$tmp/err")
if [ "$n" -eq 1 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL: trace at a label: the allocation said $n times"; cat "$tmp/err"; fi
grep_out "trace at a label: where" "evaluated after record [0-9]* (--at)" "$tmp/err"
expect 2 "trace a bad address" "$sliceleak" report --trace-block 12abc "$tmp/g.sllog"
grep_out "bad address is named" "bad address" "$tmp/err"

# the gate: the golden log retains 3.1 MiB; it has no pointer scan (format
# 1.0), so its 3.1 MiB live at exit all count as leaked, unclassified
expect 0 "check within limits" "$sliceleak" check --no-symbols --max-retained 10MiB "$tmp/g.sllog"
grep_out "check prints SUMMARY" "^SUMMARY: sliceleak: " "$tmp/out"
expect 1 "check above the retained limit" "$sliceleak" check --no-symbols --max-retained 1MiB "$tmp/g.sllog"
grep_out "check prints the top offender" "kept alive by 5-byte views" "$tmp/out"
expect 1 "check above the leak limit" "$sliceleak" check --no-symbols --max-retained 10MiB --max-leaked 1KB "$tmp/g.sllog"
expect 0 "thresholds change findings" "$sliceleak" check --no-symbols --max-retained 0 --min-block-size 2MiB "$tmp/g.sllog"

# check --format json: the JSON report on stdout, the verdict in the exit code
expect 1 "check --format json above the limit" "$sliceleak" check --no-symbols --format json \
	--max-retained 1MiB "$tmp/g.sllog"
grep_out "check --format json prints the schema" '"schema": "sliceleak-report/1"' "$tmp/out"

# reports written to a file: whole or not at all
expect 2 "html needs -o" "$sliceleak" report --format html "$tmp/g.sllog"
expect 2 "unknown format" "$sliceleak" report --format svg "$tmp/g.sllog"
expect 0 "html to a file" "$sliceleak" report --no-symbols --format html -o "$tmp/r.html" "$tmp/g.sllog"
grep_out "html page has the summary" '<div id="summary" class="summary">SUMMARY: sliceleak: ' "$tmp/r.html"
grep_out "html page has its data" '<script id="data" type="application/json">' "$tmp/r.html"
expect 0 "json to a file" "$sliceleak" report --no-symbols --format json -o "$tmp/r.json" "$tmp/g.sllog"
grep_out "json file written" '"schema": "sliceleak-report/1"' "$tmp/r.json"
expect 2 "html into a missing directory" "$sliceleak" report --format html -o "$tmp/nodir/r.html" "$tmp/g.sllog"
grep_out "unwritable output names the path" "cannot write $tmp/nodir/r.html" "$tmp/err"
# the output path is a directory: the report is written, the rename fails
mkdir "$tmp/out.d"
expect 2 "html onto a directory" "$sliceleak" report --no-symbols --format html -o "$tmp/out.d" "$tmp/g.sllog"
grep_out "failed rename names the path" "cannot write $tmp/out.d" "$tmp/err"
if [ -z "$(ls -A "$tmp" | grep '^\.')" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL: a failed write left a file behind:"; ls -A "$tmp"; fi

expect 2 "pprof onto a directory" "$sliceleak" report --no-symbols --format pprof -o "$tmp/out.d" "$tmp/g.sllog"
if [ -z "$(ls -A "$tmp" | grep '^\.')" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL: a failed pprof write left a file behind:"; ls -A "$tmp"; fi

# diff and check --baseline against a saved JSON report
expect 0 "diff of a report with its own log" "$sliceleak" diff --no-symbols "$tmp/r.json" "$tmp/g.sllog"
grep_out "no change against itself" "^0 changed" "$tmp/out"
expect 0 "check --baseline against itself" "$sliceleak" check --no-symbols --baseline "$tmp/r.json" "$tmp/g.sllog"
grep_out "check --baseline OK" "^sliceleak check: OK" "$tmp/out"
sed 's/"retained_bytes": 3211233,/"retained_bytes": 1000,/' "$tmp/r.json" >"$tmp/lower.json"
expect 1 "check --baseline above a lower baseline" "$sliceleak" check --no-symbols --baseline "$tmp/lower.json" "$tmp/g.sllog"
expect 0 "check --baseline --max-increase" "$sliceleak" check --no-symbols --baseline "$tmp/lower.json" \
	--max-increase 4MiB "$tmp/g.sllog"
# owned bytes are gated too: a baseline with fewer fails, --max-increase lets the growth pass
"$gen_log" heap 1000 "$tmp/h.sllog"
"$sliceleak" report --no-symbols --format json --top 0 "$tmp/h.sllog" >"$tmp/h.json"
grep_out "the heap log has owners" '"owned_bytes": [1-9]' "$tmp/h.json"
sed 's/"owned_bytes": [0-9]*,/"owned_bytes": 0,/' "$tmp/h.json" >"$tmp/h0.json"
expect 1 "check --baseline: owned bytes grew" "$sliceleak" check --no-symbols --baseline "$tmp/h0.json" "$tmp/h.sllog"
grep_out "check --baseline names owned" "owned [0-9.]* [KMG]*i*B (baseline 0 B)" "$tmp/out"
expect 0 "check --baseline: owned growth allowed" "$sliceleak" check --no-symbols --baseline "$tmp/h0.json" \
	--max-increase 1MiB "$tmp/h.sllog"
expect 0 "diff: owned total" "$sliceleak" diff --no-symbols --format json "$tmp/h0.json" "$tmp/h.sllog"
grep_out "diff JSON owned total" '"owned": \[0, [1-9]' "$tmp/out"
"$sliceleak" report --no-symbols --format json --top 1 "$tmp/g.sllog" >"$tmp/top1.json"
expect 0 "diff of a report cut by --top with its own log" "$sliceleak" diff --no-symbols "$tmp/top1.json" "$tmp/g.sllog"
grep_out "a cut report shows no change" "^0 changed" "$tmp/out"
grep_out "a cut report says what it could not compare" "peak contributors not compared" "$tmp/out"
printf 'SLLEAK not json\n' >"$tmp/bad.json"
expect 2 "baseline that is not JSON" "$sliceleak" check --baseline "$tmp/bad.json" "$tmp/g.sllog"
grep_out "not JSON is named" "bad.json: not a sliceleak JSON report (offset 0" "$tmp/err"
printf '{"schema": "sliceleak-report/7", "findings": []}\n' >"$tmp/new.json"
expect 2 "baseline of an unknown schema" "$sliceleak" check --baseline "$tmp/new.json" "$tmp/g.sllog"
grep_out "unknown schema is named" "unknown schema 'sliceleak-report/7'" "$tmp/err"
printf '{"name": "x"}\n' >"$tmp/other.json"
expect 2 "baseline of another tool" "$sliceleak" diff "$tmp/other.json" "$tmp/g.sllog"
grep_out "a JSON document without schema" "other.json: not a sliceleak JSON report" "$tmp/err"
expect 2 "diff with one side" "$sliceleak" diff "$tmp/g.sllog"

# suppressions hide findings and leaks from the report and the gate, with counts
expect 0 "suppressed finding passes the gate" "$sliceleak" check --no-symbols --max-retained 100KiB \
	--suppress 'view:^/usr/bin/golden$' "$tmp/g.sllog"
grep_out "suppressions used are listed" "Suppressions used:" "$tmp/out"
printf '# known\nleak:golden\n' >"$tmp/supp"
expect 0 "suppressions file" "$sliceleak" report --no-symbols --suppressions "$tmp/supp" "$tmp/g.sllog"
grep_out "leaks suppressed" "0 B leaked in 0 blocks" "$tmp/out"
expect 2 "bad suppression" "$sliceleak" report --suppress 'race:x' "$tmp/g.sllog"

# a directory stands for its logs: NAME.sllog and NAME.sllog.N, nothing else
mkdir "$tmp/dir"
cp "$tmp/g.sllog" "$tmp/dir/sliceleak.python3.11.7.sllog"
cp "$tmp/g.sllog" "$tmp/dir/sliceleak.python3.11.7.sllog.1"
echo notes >"$tmp/dir/notes.txt"
cp "$tmp/g.sllog" "$tmp/dir/x.sllog.bak"
expect 0 "report DIR" "$sliceleak" report --no-symbols "$tmp/dir"
grep_out "report DIR reads its two logs" "^sliceleak report: 2 logs" "$tmp/out"
grep_out "report DIR reads name.sllog.1" "sliceleak.python3.11.7.sllog.1: pid" "$tmp/out"
# a directory without logs is an error: a gate over nothing would pass
mkdir "$tmp/nologs"
expect 2 "check of a directory without logs" "$sliceleak" check --max-retained 0 "$tmp/nologs"
grep_out "no logs named" "nologs: no \*.sllog files" "$tmp/err"
expect 2 "report of a directory without logs" "$sliceleak" report --no-symbols "$tmp/nologs"

# a truncated log is evidence, not an error
head -c $((size - 3)) "$tmp/g.sllog" >"$tmp/cut.sllog"
expect 0 "report of a truncated log" "$sliceleak" report --no-symbols "$tmp/cut.sllog"
grep_out "truncation warned" "truncated" "$tmp/out"
expect 0 "dump of a truncated log" "$sliceleak" dump "$tmp/cut.sllog"
grep_out "dump says truncated" "^# records=52 end=no truncated=yes" "$tmp/out"
# ... but the gate fails on it, saying why, unless told to accept it
expect 1 "check of a truncated log" "$sliceleak" check --no-symbols --max-retained 1GiB "$tmp/cut.sllog"
grep_out "check names the truncated log" "^TRUNCATED: $tmp/cut.sllog: .*--allow-truncated" "$tmp/out"
grep_out "SUMMARY says truncated" "^SUMMARY: .*, 1 log TRUNCATED$" "$tmp/out"
expect 0 "check --allow-truncated" "$sliceleak" check --no-symbols --allow-truncated \
	--max-retained 1GiB "$tmp/cut.sllog"
grep_out "check still says truncated" "^TRUNCATED: .*accepted (--allow-truncated)" "$tmp/out"
expect 1 "check of a good and a truncated log" "$sliceleak" check --no-symbols --max-retained 1GiB \
	"$tmp/g.sllog" "$tmp/cut.sllog"
expect 1 "check --format json of a truncated log" "$sliceleak" check --no-symbols --format json \
	--max-retained 1GiB "$tmp/cut.sllog"
grep_out "check --format json says truncated on stderr" "^TRUNCATED: $tmp/cut.sllog: " "$tmp/err"

# a corrupt log: exit 2 and "sliceleak: <path>: offset <n>: <problem>"
{ head -c 300 "$tmp/g.sllog"; printf '\377\377\377\377\377\377\377\377\377\377\377\377'; } >"$tmp/bad.sllog"
expect 2 "report of a corrupt log" "$sliceleak" report "$tmp/bad.sllog"
grep_out "corrupt error format" "^sliceleak: $tmp/bad.sllog: offset [0-9]*: " "$tmp/err"
expect 2 "dump of a corrupt log" "$sliceleak" dump "$tmp/bad.sllog"
grep_out "dump printed what it could read" "^16 PROCESS" "$tmp/out"
expect 0 "report --lenient of a corrupt log" "$sliceleak" report --lenient --no-symbols "$tmp/bad.sllog"
grep_out "lenient warns" "corrupt at offset" "$tmp/out"
expect 1 "check --lenient of a corrupt log" "$sliceleak" check --lenient --no-symbols \
	--max-retained 1GiB "$tmp/bad.sllog"
grep_out "check --lenient names the corruption" "^CORRUPT: $tmp/bad.sllog: offset [0-9]*: " "$tmp/out"
expect 0 "check --lenient --allow-truncated" "$sliceleak" check --lenient --allow-truncated \
	--no-symbols --max-retained 1GiB "$tmp/bad.sllog"
grep_out "SUMMARY says corrupt" "^SUMMARY: .*, 1 log CORRUPT$" "$tmp/out"

# a newer major version is refused, naming both versions
ours=$(sed -n 's/^#define SLF_VERSION_MAJOR \([0-9]*\).*/\1/p; s/^#define SLF_VERSION_MINOR \([0-9]*\).*/.\1/p' \
	"$(dirname "$0")/../../include/sliceleak/format.h" | tr -d '\n')
next=$((${ours%%.*} + 1))
printf "SLLEAK\r\n\\$(printf '%03o' "$next")\000\000\000\000\000\000\000" >"$tmp/new.sllog"
expect 2 "too-new log" "$sliceleak" report "$tmp/new.sllog"
grep_out "too-new names both versions" "$next.0 is newer than this sliceleak reads ($ours)" "$tmp/err"

# run: the command's exit status goes through, shim or not
expect 3 "run passes the exit status" "$sliceleak" run -o "$tmp/run.%p.sllog" -- sh -c 'exit 3'
expect 2 "run without a command" "$sliceleak" run

echo "$pass passed, $fail failed"
test "$fail" -eq 0
