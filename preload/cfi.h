/*
 * preload/cfi.h - the fast stack walk (cfi.c) and the unwind check report.
 *
 * Kept out of internal.h on purpose: only unwind.c (which decides between
 * the fast walk and libunwind) and lifecycle.c (the exit line of
 * unwind_check=1) need these.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The key of the whole-stack cache (stacks.c): two 64-bit hashes of the
 * recorded frames. Multilinear: frame i is multiplied by its own odd
 * constants (ka, kb, stepped per frame) and the products summed, so the
 * multiplications do not wait on each other, and the sums can be taken
 * frame by frame inside the walk; slp_hash_finish() mixes them with the
 * count. 128 bits: the chance that two different stacks of one process
 * share both is far below that of a bit flip in RAM.
 */
struct slp_hash_sums {
	uint64_t a, b, ka, kb;
};

static inline void slp_hash_start(struct slp_hash_sums *h)
{
	*h = (struct slp_hash_sums){ 0, 0, 0x9e3779b97f4a7c15ull, 0xd6e8feb86659fd93ull };
}

static inline void slp_hash_add(struct slp_hash_sums *h, uint64_t x)
{
	h->a += x * h->ka;
	h->b += ((x << 29) | (x >> 35)) * h->kb;
	h->ka += 0x6a09e667f3bcc90aull; /* even steps: ka, kb stay odd */
	h->kb += 0xbb67ae8584caa73cull;
}

static inline uint64_t slp_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* The two hashes of n frames summed in h; *h1 is never 0 (an empty cache slot). */
static inline void slp_hash_finish(const struct slp_hash_sums *h, unsigned n, uint64_t *h1,
				   uint64_t *h2)
{
	uint64_t a = slp_mix64(h->a + n);

	*h1 = a ? a : 1;
	*h2 = slp_mix64((h->b + ~(uint64_t)n) ^ a);
}

/* What a fast walk with a sum worked out about the frames it returned. */
struct slp_cfi_sum {
	unsigned first;		  /* leading frames of the shim's own code */
	unsigned n;		  /* the recorded ones after them: at most the depth */
	struct slp_hash_sums sums; /* of those n */
	bool replayed;		  /* the previous walk's result again */
};

/*
 * Fills buf with the return addresses of the caller's stack, innermost
 * first, at most max of them, exactly as libunwind 1.6's unw_backtrace(buf,
 * max) called from the same place would (its own frame left out, same
 * termination). Returns the count, or -1 when it cannot vouch for that
 * result (a frame without a compiled rule, a check failed, not on this
 * thread's stack): the caller then asks libunwind. With sum (not NULL) the
 * walk also trims and hashes what it returns (struct slp_cfi_sum), and may
 * replay this thread's previous walk with sum: the same sp and every stack
 * word that walk read unchanged give the same frames. Context: any thread,
 * signal handlers included; guard held; never allocates, never blocks.
 */
int slp_cfi_backtrace(void **buf, int max, struct slp_cfi_sum *sum);

/* Forget every compiled rule (after dlclose: code may be gone or replaced). */
void slp_cfi_flush(void);

/* A fork child: the rule cache's insert lock may have been held at the fork. */
void slp_cfi_fork_child(void);

/* The exit line of unwind_check=1 (unwind.c). Context: exit, guard held. */
void slp_unwind_report(void);
