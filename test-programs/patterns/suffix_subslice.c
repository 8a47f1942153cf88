/*
 * suffix_subslice - the Go sub-slice leak (s0 = s1[len(s1)-30:]):
 * a sensor monitor keeps the 30 most recent samples of each batch of
 * readings, and the 30-element suffix keeps the whole batch alive.
 *
 * Variants:
 *   leaky  recent = samples[len-30:] (sl_sub): every batch stays alive; the
 *          views sit at the END of their blocks.
 *   copy   recent = make([]int64, 30) + copy (sl_make, sl_copy): the fix.
 *
 * The process exits with the recent windows of every sensor held.
 *
 * USAGE: suffix_subslice leaky|copy [count] [samples]
 * PARAMS: count=100 samples=131072
 * EXPECT leaky: findings=1
 * EXPECT leaky: finding blocks=count views=count used_bytes=count*30*8 \
 *	block_bytes~count*samples*8 retained_bytes~count*(samples-30)*8 \
 *	view_function=keep_recent view_site=suffix alloc_function=read_batch \
 *	alloc_site=batch
 * EXPECT leaky: leak function=read_batch blocks=count bytes~count*samples*8
 * EXPECT copy: findings=0
 * EXPECT copy: leak function=read_batch blocks=0
 * EXPECT copy: leak function=keep_recent blocks=count bytes~count*30*8
 */
#include <stdint.h>
#include <stdio.h>

#include <sliceleak/slice.h>

#include "pattern_args.h"

#define USAGE "suffix_subslice leaky|copy [count] [samples]"
#define RECENT 30

enum variant { V_LEAKY, V_COPY };

static const char *const variant_names[] = { "leaky", "copy", NULL };

/* Simulates one batch of readings from sensor id: samples int64 values. */
static sl_slice read_batch(size_t id, size_t samples)
{
	sl_slice batch = sl_make(sizeof(int64_t), samples, samples); /* ALLOC-SITE batch */
	int64_t *v = batch.ptr;

	if (!batch.ptr)
		pattern_die("sl_make");
	for (size_t i = 0; i < samples; i++)
		v[i] = (int64_t)(id * 1000 + i % 977);
	return batch;
}

/* The 30 most recent samples of a batch: s1[len(s1)-30:], or a copy of them. */
static sl_slice keep_recent(sl_slice batch, enum variant v)
{
	sl_slice tail, recent;

	if (v == V_LEAKY)
		return sl_sub(batch, batch.len - RECENT, batch.len); /* VIEW-SITE suffix */
	recent = sl_make(sizeof(int64_t), RECENT, RECENT);
	if (!recent.ptr)
		pattern_die("sl_make");
	tail = sl_sub(batch, batch.len - RECENT, batch.len);
	sl_copy(recent, tail);
	sl_release(&tail);
	return recent;
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 100, USAGE);
	size_t samples = pattern_size(argc, argv, 3, 131072, USAGE);
	sl_slice windows = sl_make(sizeof(sl_slice), 0, count); /* one window per sensor */
	int64_t sum = 0;

	if (samples < RECENT)
		pattern_usage(USAGE);
	if (!windows.ptr)
		pattern_die("sl_make");
	for (size_t id = 0; id < count; id++) {
		sl_slice batch = read_batch(id, samples);
		sl_slice recent = keep_recent(batch, v);

		windows = sl_append(windows, &recent, 1);
		sl_release(&batch);
	}
	for (size_t id = 0; id < windows.len; id++) {
		sl_slice *w = sl_at(windows, id);

		for (size_t i = 0; i < w->len; i++)
			sum += *(int64_t *)sl_at(*w, i);
	}
	printf("%zu sensors, %zu samples each, recent-window sum %lld\n", count, samples,
	       (long long)sum);
	return 0;
}
