/*
 * append_fresh - a Go leak and its fix: a = b[:2] keeps b's backing
 * alive; c = append(c, b[:2]...) onto an empty slice makes append allocate a
 * new backing, so b can be freed.
 *
 * A job scheduler receives batches of job ids and keeps the first two ids of
 * each batch for its progress display.
 *
 * Variants:
 *   leaky   head = batch[:2] (sl_sub): every batch stays alive.
 *   append  head = append([]int64(nil), batch[:2]...) (sl_append_slice onto
 *           SL_NIL): a fresh backing of two elements; batches are freed.
 *
 * The process exits with the heads of every batch held.
 *
 * USAGE: append_fresh leaky|append [count] [jobs]
 * PARAMS: count=100 jobs=131072
 * EXPECT leaky: findings=1
 * EXPECT leaky: finding blocks=count views=count used_bytes=count*2*8 \
 *	block_bytes~count*jobs*8 retained_bytes~count*(jobs-2)*8 \
 *	view_function=batch_head view_site=head alloc_function=receive_batch \
 *	alloc_site=batch
 * EXPECT leaky: leak function=receive_batch blocks=count bytes~count*jobs*8
 * EXPECT append: findings=0
 * EXPECT append: leak function=receive_batch blocks=0
 * EXPECT append: leak function=batch_head blocks=count
 */
#include <stdint.h>
#include <stdio.h>

#include <sliceleak/slice.h>

#include "pattern_args.h"

#define USAGE "append_fresh leaky|append [count] [jobs]"
#define HEAD 2

enum variant { V_LEAKY, V_APPEND };

static const char *const variant_names[] = { "leaky", "append", NULL };

/* Simulates receiving batch number seq: jobs job ids. */
static sl_slice receive_batch(size_t seq, size_t jobs)
{
	sl_slice batch = sl_make(sizeof(int64_t), jobs, jobs); /* ALLOC-SITE batch */
	int64_t *ids = batch.ptr;

	if (!batch.ptr)
		pattern_die("sl_make");
	for (size_t i = 0; i < jobs; i++)
		ids[i] = (int64_t)(seq << 32 | i);
	return batch;
}

/* The first two job ids of a batch: the Go original's f(b). */
static sl_slice batch_head(sl_slice batch, enum variant v)
{
	sl_slice two, fresh;

	if (v == V_LEAKY)
		return sl_sub(batch, 0, HEAD); /* VIEW-SITE head */
	/* c = append(c, b[:2]...) with c empty: cap 0 is short, so append
	 * allocates a new backing and the two ids leave b behind. */
	two = sl_sub(batch, 0, HEAD);
	fresh = sl_append_slice(SL_NIL, two);
	sl_release(&two);
	return fresh;
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 100, USAGE);
	size_t jobs = pattern_size(argc, argv, 3, 131072, USAGE);
	sl_slice heads = sl_make(sizeof(sl_slice), 0, count);
	uint64_t check = 0;

	if (jobs < HEAD)
		pattern_usage(USAGE);
	if (!heads.ptr)
		pattern_die("sl_make");
	for (size_t seq = 0; seq < count; seq++) {
		sl_slice batch = receive_batch(seq, jobs);
		sl_slice head = batch_head(batch, v);

		if (!head.ptr)
			pattern_die("batch head");
		heads = sl_append(heads, &head, 1);
		sl_release(&batch);
	}
	for (size_t i = 0; i < heads.len; i++) {
		sl_slice *h = sl_at(heads, i);

		check += (uint64_t)*(int64_t *)sl_at(*h, 0) + (uint64_t)*(int64_t *)sl_at(*h, 1);
	}
	printf("%zu batches of %zu jobs, heads checksum %llu\n", count, jobs,
	       (unsigned long long)check);
	return 0;
}
