/*
 * preload/sample.h - sampled recording (sample_bytes, exact_bytes).
 *
 * With sample_bytes = 0 (the default) every block is recorded and nothing
 * here runs but one load and compare per event. Otherwise:
 *
 *  - A block of at least exact_bytes (requested) is always recorded.
 *  - A smaller one is recorded when a Poisson process over the bytes this
 *    thread allocated, of mean interval sample_bytes, has a point inside it:
 *    each thread counts down the bytes to its next point
 *    (slp_sample_left), drawn from an exponential distribution, and the
 *    allocation that reaches it is recorded. By memorylessness a block of
 *    s bytes is recorded with probability 1 - exp(-s / sample_bytes),
 *    independently of every other block; the analyzer weights it by that
 *    (format.h 3.0). Blocks of exact_bytes or more do not count down.
 *  - Every recorded block's address is in one set (below), so a free or a
 *    realloc knows whether the log knows the block: the free of a block the
 *    log never saw costs the set's lock-free lookup and nothing else.
 *
 * The set: open addressing (linear probing) of addresses, read without a
 * lock, written under a spin lock. Only the free (or realloc) of a block
 * looks that block up, and its insertion happened before (the program got
 * the block from malloc), so a reader never misses its own key while
 * other threads insert and delete theirs (deletion leaves a tombstone).
 * Rebuilding (too many tombstones, or growth) writes the spare table and
 * publishes it; the old one becomes the spare, rewritten at the next
 * rebuild. A reader that may have read a table being rewritten sees `gen`
 * changed and looks again (a seqlock). Tables are never unmapped (a
 * reader may still hold one): at most the current and the spare, plus
 * smaller ones outgrown.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct slp_sample_table {
	size_t mask;	   /* slots - 1 */
	unsigned shift;	   /* 64 - log2(slots) */
	uint64_t slot[];   /* 0 empty, 1 tombstone, else an address */
};

/* Read on every event: one cache line, written only at start-up and rebuilds. */
struct slp_sampling {
	uint64_t mean;	/* sample_bytes; 0: every block is recorded */
	uint64_t exact; /* exact_bytes */
	struct slp_sample_table *_Atomic tab;
	atomic_uint gen;
} __attribute__((aligned(64)));

extern struct slp_sampling slp_samp;

/* Bytes this thread may still allocate before its next sample point. */
extern _Thread_local int64_t slp_sample_left __attribute__((tls_model("initial-exec")));

/* Start-up: reads the options. A fork child: fresh lock (the set is inherited). */
void slp_sample_setup(void);
void slp_sample_fork_child(void);

/* Past the point: draws the next one; returns whether the block is recorded. */
bool slp_sample_hit(size_t size);

/*
 * Whether a block of `size` bytes goes unrecorded (the sampler passed over
 * it). Counts the bytes down. Context: any.
 */
static inline bool slp_sample_skip(size_t size)
{
	int64_t left;

	if (__builtin_expect(!slp_samp.mean, 1) || size >= slp_samp.exact)
		return false;
	left = slp_sample_left - (int64_t)size;
	if (__builtin_expect(left > 0, 1)) {
		slp_sample_left = left;
		return true;
	}
	return !slp_sample_hit(size);
}

#define SLP_SAMPLE_TOMB 1u

static inline size_t slp_sample_home(const struct slp_sample_table *t, uint64_t key)
{
	return (size_t)((key >> 4) * 0x9e3779b97f4a7c15ull >> t->shift);
}

/*
 * Whether the block at p is recorded (sampling on). Lock-free; a true
 * answer is confirmed by slp_sample_del() under the lock.
 */
static inline bool slp_sample_has(const void *p)
{
	uint64_t key = (uint64_t)(uintptr_t)p;

	for (;;) {
		unsigned g = atomic_load_explicit(&slp_samp.gen, memory_order_acquire);
		const struct slp_sample_table *t =
			atomic_load_explicit(&slp_samp.tab, memory_order_acquire);
		bool found = false;

		if (!t)
			return false;
		for (size_t j = slp_sample_home(t, key), n = 0; n <= t->mask;
		     j = (j + 1) & t->mask, n++) {
			uint64_t v = __atomic_load_n(&t->slot[j], __ATOMIC_RELAXED);

			if (v == key) {
				found = true;
				break;
			}
			if (!v)
				break;
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&slp_samp.gen, memory_order_relaxed) == g)
			return found;
	}
}

/*
 * Adds / removes a recorded block. `try`: from a signal handler, which may
 * have interrupted this thread inside the set. add() returns false when it
 * could not (busy, or no memory: the block then goes unrecorded); del()
 * returns 1 when p was there, 0 when not, -1 when busy (the caller counts
 * the event as dropped). Context: any; never allocates (tables are mmap'd).
 */
bool slp_sample_add(const void *p, bool try);
/* Calls fn for each table of the set: they hold addresses, the scan leaves them out. */
void slp_sample_ranges(void (*fn)(uintptr_t lo, uintptr_t hi));
int slp_sample_del(const void *p, bool try);
