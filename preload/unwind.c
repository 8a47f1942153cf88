/*
 * preload/unwind.c - stack capture with libunwind.
 *
 * unw_backtrace() with UNW_LOCAL_ONLY and libunwind's per-thread cache costs
 * about 9 ns per frame here; glibc's backtrace() costs microseconds and
 * allocates. Capture always runs outside the writer lock, with the guard
 * held: libunwind may call dl_iterate_phdr() and allocate.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "internal.h"

/*
 * Context: start-up, guard held. The warm-up capture makes libunwind parse
 * the unwind tables of the objects on our own start-up path now rather than
 * inside the program's first allocation.
 */
void slp_unwind_setup(void)
{
	struct slp_trace t;

	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	unw_set_cache_size(unw_local_addr_space, 1024, 0);
	slp_unwind_capture(&t);
}

/*
 * A word-wise hash of the frames (a multiply-xorshift per word); never 0,
 * because 0 marks an empty slot in the stack cache.
 */
static uint64_t hash_frames(void *const *ip, unsigned n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (unsigned i = 0; i < n; i++) {
		h ^= (uint64_t)(uintptr_t)ip[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h ? h : 1;
}

/*
 * Captures the calling thread's stack into t, innermost first, without the
 * frames of the shim itself (found by address, so inlining and tail calls
 * in our code cannot shift the result): t->ip[t->first] is the caller of
 * the interposed function. Context: any thread, guard held, no lock.
 */
void slp_unwind_capture(struct slp_trace *t)
{
	int got = 0;
	unsigned first = 0, n;

	if (slp_st.depth)
		got = unw_backtrace(t->ip, (int)(slp_st.depth + SLP_MAX_SKIP));
	n = got > 0 ? (unsigned)got : 0;
	while (first < n && slp_is_self((uintptr_t)t->ip[first]))
		first++;
	n -= first;
	if (n > slp_st.depth)
		n = slp_st.depth;
	t->first = first;
	t->n = n;
	t->hash = hash_frames(t->ip + first, n);
}

/* After dlclose: cached unwind info may describe code that is gone. */
void slp_unwind_flush(void)
{
	unw_flush_cache(unw_local_addr_space, 0, 0);
}
