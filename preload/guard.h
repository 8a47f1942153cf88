/*
 * preload/guard.h - the per-thread "inside sliceleak" flag.
 *
 * Set while this thread runs sliceleak code (stack capture, the writer,
 * initialisation). Anything that allocates on our behalf (libunwind,
 * dl_iterate_phdr, atexit, a signal handler that interrupts us) then goes
 * straight to libc, unrecorded, instead of recursing into the tracker.
 *
 * initial-exec: the flag lives in static TLS, so touching it never calls
 * __tls_get_addr() and therefore never malloc().
 */
#pragma once

#include <stdbool.h>

extern _Thread_local bool slp_busy __attribute__((tls_model("initial-exec")));

/* Returns false when this thread is already inside sliceleak. */
static inline bool slp_guard_enter(void)
{
	if (slp_busy)
		return false;
	slp_busy = true;
	return true;
}

static inline void slp_guard_leave(void)
{
	slp_busy = false;
}
