/*
 * preload/guard.h - the per-thread "inside sliceleak" flags.
 *
 * SLP_BUSY is set while this thread runs sliceleak code (stack capture,
 * the writer, initialisation). Anything that allocates on our behalf
 * (libunwind, dl_iterate_phdr, atexit) then goes straight to libc,
 * unrecorded, instead of recursing into the tracker.
 *
 * A signal handler that interrupts the recording of a malloc-family event
 * (SLP_RECORDING) and calls malloc or free itself is the program's: such
 * events are recorded through record.c's reentrant path. Inside a call out
 * of ours that allocates for us (SLP_CALLOUT: libunwind, the loader) the
 * two cannot be told apart, and nothing is recorded.
 *
 * SLP_ASYNC: the program made this thread's cancellation asynchronous
 * (pthread_setcanceltype, hooks_safety.c). Cancelled inside our code, the
 * thread would die holding its stream lock (and its exit would wait for
 * that lock forever) or the stack table's: while such a thread is inside
 * sliceleak its cancellation is disabled (SLP_NO_CANCEL), and a request
 * that came meanwhile acts when it leaves. Other threads pay one compare.
 *
 * initial-exec: the flags live in static TLS, so touching them never
 * calls __tls_get_addr() and therefore never malloc().
 */
#pragma once

#include <stdbool.h>

enum {
	SLP_BUSY = 1,
	SLP_RECORDING = 2,
	SLP_CALLOUT = 4,
	SLP_ASYNC = 8,
	SLP_NO_CANCEL = 16,
};

extern _Thread_local unsigned char slp_busy __attribute__((tls_model("initial-exec")));

bool slp_guard_enter_slow(unsigned char bits);
void slp_guard_leave_slow(void);

/* Returns false when this thread is already inside sliceleak. */
static inline bool slp_guard_enter(void)
{
	if (__builtin_expect(!slp_busy, 1)) {
		slp_busy = SLP_BUSY;
		return true;
	}
	return slp_guard_enter_slow(SLP_BUSY);
}

/* The same, for recording a malloc-family event (hooks.c). */
static inline bool slp_guard_enter_recording(void)
{
	if (__builtin_expect(!slp_busy, 1)) {
		slp_busy = SLP_BUSY | SLP_RECORDING;
		return true;
	}
	return slp_guard_enter_slow(SLP_BUSY | SLP_RECORDING);
}

static inline void slp_guard_leave(void)
{
	if (__builtin_expect(!(slp_busy & SLP_ASYNC), 1))
		slp_busy = 0;
	else
		slp_guard_leave_slow();
}

/* The guard is held by an event's recording that this call interrupted (a signal handler). */
static inline bool slp_guard_interrupted(void)
{
	return (slp_busy & (SLP_BUSY | SLP_RECORDING | SLP_CALLOUT)) == (SLP_BUSY | SLP_RECORDING);
}

/* Around a call that may allocate on our behalf. */
static inline unsigned char slp_callout_begin(void)
{
	unsigned char was = slp_busy & SLP_CALLOUT;

	slp_busy |= SLP_CALLOUT;
	return was;
}

static inline void slp_callout_end(unsigned char was)
{
	if (!was)
		slp_busy &= (unsigned char)~SLP_CALLOUT;
}
