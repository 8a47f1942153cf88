/*
 * preload/hooks_safety.c - libc functions wrapped only so that the shim's
 * own machinery never touches what belongs to the program.
 *
 * pipe2(): libunwind makes its address-validation pipe with it; a pipe made
 * by libunwind's code is moved above SLP_FD_FLOOR before libunwind learns
 * its numbers (unwind.c says why). Everybody else's pipe2() is untouched.
 *
 * pthread_setcanceltype(): which threads can be cancelled asynchronously,
 * anywhere, also inside our code; guard.h says what is done for them.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "guard.h"
#include "internal.h"

static int (*real_pipe2)(int[2], int);
static int (*real_setcanceltype)(int, int *);

/* dlsym may allocate: guarded, so that is not logged as the program's. */
static SLP_COLD void resolve(void *slot, const char *name)
{
	bool entered = slp_guard_enter();

	if (!slp_resolve_next(slot, name))
		slp_die("a libc function is missing");
	if (entered)
		slp_guard_leave();
}

SLP_EXPORT int pipe2(int fds[2], int flags)
{
	int rc;

	if (SLP_UNLIKELY(!real_pipe2))
		resolve(&real_pipe2, "pipe2");
	rc = real_pipe2(fds, flags);
	if (rc == 0 && slp_unwind_is_caller(__builtin_return_address(0)))
		slp_unwind_pipe_made(fds);
	return rc;
}

SLP_EXPORT int pthread_setcanceltype(int type, int *oldtype)
{
	int rc;

	if (SLP_UNLIKELY(!real_setcanceltype))
		resolve(&real_setcanceltype, "pthread_setcanceltype");
	rc = real_setcanceltype(type, oldtype);
	if (rc == 0 && type == PTHREAD_CANCEL_ASYNCHRONOUS)
		slp_busy |= SLP_ASYNC;
	else if (rc == 0)
		slp_busy &= (unsigned char)~SLP_ASYNC;
	return rc;
}

/*
 * guard.h: a thread with asynchronous cancellation enters our code with
 * its cancellation disabled and deferred, and leaves it as it was. The
 * type goes back last: glibc (2.36) acts on a request that came meanwhile
 * when the type becomes asynchronous again, outside our code, and the
 * thread's result is PTHREAD_CANCELED (re-enabling the state first would
 * act on it too, but leave the result NULL).
 */
static _Thread_local int saved_state __attribute__((tls_model("initial-exec")));
static _Thread_local int saved_type __attribute__((tls_model("initial-exec")));

bool slp_guard_enter_slow(unsigned char bits)
{
	int state, type;

	if (slp_busy & SLP_BUSY)
		return false;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	real_setcanceltype(PTHREAD_CANCEL_DEFERRED, &type);
	saved_state = state;
	saved_type = type;
	slp_busy = (unsigned char)(SLP_ASYNC | SLP_NO_CANCEL | bits);
	return true;
}

void slp_guard_leave_slow(void)
{
	bool restore = slp_busy & SLP_NO_CANCEL;

	slp_busy = SLP_ASYNC;
	if (restore) {
		pthread_setcancelstate(saved_state, NULL);
		real_setcanceltype(saved_type, NULL);
	}
}
