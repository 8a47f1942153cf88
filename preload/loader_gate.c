/*
 * preload/loader_gate.c - who is inside the dynamic loader at a fork.
 *
 * dl_iterate_phdr() holds the loader's lock while it runs, and glibc (2.36)
 * does not reset that lock in a fork child: a child forked while any other
 * thread was inside dl_iterate_phdr() hangs at its first call of it. Without
 * the shim most children never call it; with the shim every child would
 * (libunwind on a new ip, the module map of the child's log).
 *
 * So dl_iterate_phdr() is interposed (hooks_dl.c) to count the calls in
 * flight, and the fork prepare handler closes the gate and waits for them
 * to drain - for a bounded time only, since a callback may wait for a lock
 * that the forking thread holds. If they do not drain, or a call had to be
 * let through while the gate was closed, the child records no stacks and
 * never calls the loader (loader_unusable).
 */
#include <sched.h>
#include <time.h>

#include "internal.h"

#define DRAIN_NS 200000000L /* how long a fork waits for callbacks to finish */

static struct {
	atomic_int in_flight; /* dl_iterate_phdr() calls running now */
	atomic_int pending;   /* forks between prepare and parent/child */
	atomic_bool late;     /* a call entered while a fork was pending */
} gate;

static long elapsed_ns(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/*
 * Before a dl_iterate_phdr() call. Counts first, then looks (the fork
 * side sets `pending` first, then looks): with sequentially consistent
 * atomics one of the two always sees the other. Context: any thread.
 */
void slp_loader_enter(void)
{
	struct timespec t0;
	bool timing = false;

	for (;;) {
		atomic_fetch_add(&gate.in_flight, 1);
		if (SLP_LIKELY(!atomic_load(&gate.pending)))
			return;
		atomic_fetch_sub(&gate.in_flight, 1);
		if (!timing) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			timing = true;
		}
		if (elapsed_ns(&t0) > DRAIN_NS) {
			/* the forking thread is stuck elsewhere: go, and say so */
			atomic_store(&gate.late, true);
			atomic_fetch_add(&gate.in_flight, 1);
			return;
		}
		sched_yield();
	}
}

void slp_loader_leave(void)
{
	atomic_fetch_sub(&gate.in_flight, 1);
}

/* Context: fork prepare handler. Returns true when no call is in flight. */
bool slp_loader_fork_prepare(void)
{
	struct timespec t0;

	atomic_fetch_add(&gate.pending, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&gate.in_flight)) {
		if (elapsed_ns(&t0) > DRAIN_NS)
			return false;
		sched_yield();
	}
	return true;
}

void slp_loader_fork_parent(void)
{
	if (atomic_fetch_sub(&gate.pending, 1) == 1)
		atomic_store(&gate.late, false);
}

/*
 * Context: fork child, single thread. Returns whether the child may call
 * the loader: the calls drained before the fork and none came in late.
 */
bool slp_loader_fork_child(bool drained)
{
	bool usable = drained && !atomic_load(&gate.late);

	atomic_store(&gate.in_flight, 0);
	atomic_store(&gate.pending, 0);
	atomic_store(&gate.late, false);
	return usable;
}
