#!/bin/sh
# slice/tests/check_symbols.sh - the symbol-level promises of libslice.so.
#
#   check_symbols.sh LIB HEADER        all checks
#   check_symbols.sh --calls-only LIB  only "no sl_* function calls another"
#
# 1. LIB exports exactly the functions HEADER declares, and nothing else.
# 2. No code in LIB calls or jumps to an sl_* function's entry, neither
#    through the PLT/GOT nor directly: an interposer of the sl_* symbols must
#    see exactly one event per call made by the application.
# 3. malloc and free are imported from the dynamic symbol table, so an
#    LD_PRELOAD tracker sees every backing block.
# Exit 0 when all hold; 1 with a line per violation otherwise.
set -eu

calls_only=false
if [ "${1:-}" = "--calls-only" ]; then
	calls_only=true
	shift
fi
lib=$1
bad=0

fail() {
	echo "check_symbols: $lib: $*" >&2
	bad=1
}

# 2a. A relocation against an sl_* symbol means a call or address load through
#     the PLT/GOT: the library reaching its own public entry points.
relocs=$(readelf -rW "$lib" | awk '$5 ~ /^sl_/ { print $5 }' | sort -u)
[ -z "$relocs" ] || fail "relocations against public functions: $relocs"

# 2b. Direct calls and tail jumps to the entry of an sl_* function other than
#     the one being disassembled (jumps inside a function carry a +0x offset).
direct=$(objdump -d --no-show-raw-insn "$lib" | awk '
	/^[0-9a-f]+ <[^>]+>:$/ { fn = $2; gsub(/[<>:]/, "", fn); next }
	/\t(call|jmp)/ {
		if (match($0, /<sl_[A-Za-z0-9_]+(@plt)?(\+0x[0-9a-f]+)?>/)) {
			t = substr($0, RSTART + 1, RLENGTH - 2)
			if (t ~ /@plt/ || (t !~ /\+0x/ && t != fn))
				print fn " -> " t
		}
	}')
[ -z "$direct" ] || fail "calls between public functions: $direct"

if ! $calls_only; then
	header=$2
	# Declarations only: a return type at the start of the line, then the name.
	want=$(grep -oE '^[a-z_]+[ *]+sl_[a-z0-9_]+\(' "$header" |
		sed 's/.*[ *]\(sl_[a-z0-9_]*\)($/\1/' | sort -u)
	have=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | sort -u)
	[ -n "$want" ] || fail "no functions found in $header"
	[ "$want" = "$have" ] ||
		fail "exports differ from $header: want [$(echo $want)], have [$(echo $have)]"

	imports=$(nm -D --undefined-only "$lib" | awk '{ print $2 }' | sed 's/@.*//')
	for f in malloc free; do
		printf '%s\n' "$imports" | grep -qx "$f" || fail "$f is not imported dynamically"
	done
fi

[ $bad -eq 0 ] && echo "check_symbols: $lib: ok"
exit $bad
