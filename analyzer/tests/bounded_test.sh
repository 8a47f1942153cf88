#!/bin/sh
# analyzer/tests/bounded_test.sh - the analyzer is bounded on any input: a
# device or pipe is refused after its header or read in bounded memory, a
# sparse file's holes cost neither memory nor reading, byte sums never wrap.
#   bounded_test.sh SLICELEAK GEN_LOG
set -u
sliceleak=$1 gen_log=$2
pass=0 fail=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
[ -x /usr/bin/time ] || { echo "SKIP: no /usr/bin/time to measure memory"; exit 77; }

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run_rss WANT_EXIT NAME COMMAND...: the exit code, then the peak RSS (KiB) in $rss.
# ulimit -v (KiB, $vlimit) keeps a runaway reader from taking the machine down
# (a mapped log needs its size in address space); timeout, from hanging.
# An AddressSanitizer build reserves terabytes of shadow: no address-space
# limit for it, and its memory figures carry ASan's own overhead.
vlimit=1048576 rss_scale=1
if ldd "$sliceleak" 2>/dev/null | grep -q libasan; then
	vlimit=unlimited rss_scale=4
fi
run_rss() {
	want=$1 name=$2; shift 2
	(ulimit -v $vlimit; exec /usr/bin/time -f '%M' -o "$tmp/rss" timeout 60 "$@") \
		>"$tmp/out" 2>"$tmp/err"
	got=$?
	rss=$(tail -n 1 "$tmp/rss" 2>/dev/null)
	case $rss in '' | *[!0-9]*) rss=999999999 ;; esac
	if [ "$got" -eq "$want" ]; then ok; else bad "$name: exit $got, want $want"; cat "$tmp/err"; fi
}
grep_err() { # description, pattern
	if grep -q -- "$2" "$tmp/err"; then ok; else bad "$1: no '$2' in:"; cat "$tmp/err"; fi
}
rss_below() { # description, KiB
	if [ "$rss" -lt $(($2 * rss_scale)) ]; then ok; else
		bad "$1: peak RSS $rss KiB, limit $(($2 * rss_scale)) KiB"; fi
}

"$gen_log" golden "$tmp/g.sllog" || exit 2

# devices: the magic is checked on the first 16 bytes, not after reading forever
for dev in /dev/zero /dev/urandom; do
	run_rss 2 "$dev" "$sliceleak" report "$dev"
	grep_err "$dev is refused" "$dev: offset 0: not a sliceleak log"
	rss_below "$dev" 65536
done

# a pipe: a valid header and 256 MiB of zeros, read in bounded memory
{ head -c 16 "$tmp/g.sllog"; head -c 268435456 /dev/zero; } >"$tmp/zeros.fifo.in"
run_rss 0 "header and zeros through a pipe" sh -c '"$1" report --no-symbols /dev/stdin <"$2"' sh \
	"$sliceleak" "$tmp/zeros.fifo.in"
rss_below "header and zeros through a pipe" 65536
rm -f "$tmp/zeros.fifo.in"
cat "$tmp/g.sllog" | "$sliceleak" report --no-symbols /dev/stdin >"$tmp/pipe.txt" 2>"$tmp/err"
"$sliceleak" report --no-symbols "$tmp/g.sllog" >"$tmp/file.txt" 2>>"$tmp/err"
sed 's|/dev/stdin|LOG|' "$tmp/pipe.txt" >"$tmp/pipe.n"
sed "s|$tmp/g.sllog|LOG|" "$tmp/file.txt" >"$tmp/file.n"
if cmp -s "$tmp/pipe.n" "$tmp/file.n"; then ok; else bad "a log through a pipe reads as the file"; diff "$tmp/pipe.n" "$tmp/file.n" | head; fi

# a sparse 2 GiB log: a valid header (2.x and 1.x), then a hole to the end
[ "$vlimit" = unlimited ] || vlimit=3145728
for v in 2 1; do
	head -c 16 "$tmp/g.sllog" >"$tmp/sparse$v.sllog"
	printf "\\00$v" | dd of="$tmp/sparse$v.sllog" bs=1 seek=8 conv=notrunc 2>/dev/null
	truncate -s 2G "$tmp/sparse$v.sllog" || { echo "SKIP: no sparse files here"; exit 77; }
	run_rss 0 "sparse 2 GiB log, format $v" "$sliceleak" report --no-symbols "$tmp/sparse$v.sllog"
	rss_below "sparse 2 GiB log, format $v" 65536
	grep -q "TRUNCATED" "$tmp/out" && ok || bad "sparse log $v is reported truncated: $(head -3 "$tmp/out")"
	# the same bytes with data at the very end: zeros are read, pages given back
	printf 'x' | dd of="$tmp/sparse$v.sllog" bs=1 seek=$((2 * 1024 * 1024 * 1024 - 1)) conv=notrunc 2>/dev/null
	truncate -s 300M "$tmp/sparse$v.sllog"
	printf '\001' >>"$tmp/sparse$v.sllog"
	run_rss 2 "zeros then a byte, format $v" "$sliceleak" report --no-symbols "$tmp/sparse$v.sllog"
	rss_below "zeros then a byte, format $v" 65536
	grep_err "zeros then a byte, format $v: an error with an offset" "offset 16: record kind 0"
	rm -f "$tmp/sparse$v.sllog"
done

# two blocks of 8 EiB + 39 bytes: 78 bytes in 64-bit arithmetic; the sums saturate
"$gen_log" huge "$tmp/huge.sllog" || exit 2
run_rss 1 "16 EiB leaked fails a 1 KiB leak limit" "$sliceleak" check --no-symbols \
	--max-retained 0 --max-leaked 1KiB "$tmp/huge.sllog"
"$sliceleak" report --no-symbols "$tmp/huge.sllog" >"$tmp/out" 2>&1
grep -q "16.0 EiB leaked in 2 blocks" "$tmp/out" && ok || bad "huge blocks: $(grep SUMMARY "$tmp/out")"
"$sliceleak" report --format json --no-symbols "$tmp/huge.sllog" >"$tmp/out" 2>&1
grep -q "18446744073709551615" "$tmp/out" && ok || bad "huge blocks: JSON does not saturate"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
