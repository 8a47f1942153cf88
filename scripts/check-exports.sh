#!/bin/sh
# scripts/check-exports.sh LIB - the dynamic symbols libsliceleak.so defines
# must be exactly the interposed ones and the annotation API: anything more
# would interpose on the program by accident, anything less means a hook was
# lost. Update ALLOWED on purpose only (and README.md and include/sliceleak/ if public).
set -eu
lib=${1:?usage: check-exports.sh path/to/libsliceleak.so}

ALLOWED='_Znam
_ZnamRKSt9nothrow_t
_ZnamSt11align_val_t
_ZnamSt11align_val_tRKSt9nothrow_t
_Znwm
_ZnwmRKSt9nothrow_t
_ZnwmSt11align_val_t
_ZnwmSt11align_val_tRKSt9nothrow_t
_ZdaPv
_ZdaPvm
_ZdaPvmSt11align_val_t
_ZdaPvRKSt9nothrow_t
_ZdaPvSt11align_val_t
_ZdaPvSt11align_val_tRKSt9nothrow_t
_ZdlPv
_ZdlPvm
_ZdlPvmSt11align_val_t
_ZdlPvRKSt9nothrow_t
_ZdlPvSt11align_val_t
_ZdlPvSt11align_val_tRKSt9nothrow_t
aligned_alloc
calloc
daemon
dlclose
dl_iterate_phdr
execl
execle
execlp
execv
execve
execveat
execvp
execvpe
fexecve
_exit
_Exit
free
malloc
memalign
pipe2
pthread_setcanceltype
posix_memalign
pvalloc
realloc
reallocarray
sl_append
sl_append_slice
sl_clone
sl_from
sl_from_str
sl_make
sl_release
sl_retain
sl_sub
sl_sub3
sliceleak_snapshot
sliceleak_view_acquire
sliceleak_view_release
valloc'

# Defined (not U), global or weak, not versioned-local.
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWwDdBbVv]$/ && $2 != "t" { print $3 }' \
	| sed 's/@.*//' | sort -u)
expected=$(printf '%s\n' "$ALLOWED" | sort -u)

if [ "$actual" = "$expected" ]; then
	echo "exports: $(printf '%s\n' "$actual" | wc -l) symbols, as allowed"
	echo "1 passed, 0 failed"
	exit 0
fi
echo "exports of $lib differ from the allowed list:"
echo "  missing: $(printf '%s\n' "$expected" | grep -vxF "$actual" | tr '\n' ' ')"
echo "  extra:   $(printf '%s\n' "$actual" | grep -vxF "$expected" | tr '\n' ' ')"
echo "0 passed, 1 failed"
exit 1
