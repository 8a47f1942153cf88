/*
 * preload/cfi.h - the fast stack walk (cfi.c) and the unwind check report.
 *
 * Kept out of internal.h on purpose: only unwind.c (which decides between
 * the fast walk and libunwind) and lifecycle.c (the exit line of
 * unwind_check=1) need these.
 */
#pragma once

#include <stdbool.h>

/*
 * Fills buf with the return addresses of the caller's stack, innermost
 * first, at most max of them, exactly as libunwind 1.6's unw_backtrace(buf,
 * max) called from the same place would (its own frame left out, same
 * termination). Returns the count, or -1 when it cannot vouch for that
 * result (a frame without a compiled rule, a check failed, not on this
 * thread's stack): the caller then asks libunwind. *same (when not NULL)
 * says whether the result is this thread's previous one with `same` again,
 * replayed: the same sp and every stack word the walk read unchanged.
 * Context: any thread,
 * signal handlers included; guard held; never allocates, never blocks.
 */
int slp_cfi_backtrace(void **buf, int max, bool *same);

/* Forget every compiled rule (after dlclose: code may be gone or replaced). */
void slp_cfi_flush(void);

/* A fork child: the rule cache's insert lock may have been held at the fork. */
void slp_cfi_fork_child(void);

/* The exit line of unwind_check=1 (unwind.c). Context: exit, guard held. */
void slp_unwind_report(void);
