/*
 * scripts/bench/slice_bench.c - the slice-heavy workload.
 *
 * BLOCKS big backing arrays (default 4 of 16 MiB, from sl_make), then N
 * rounds of sl_sub + sl_release on them, 8 noinline frames deep. A ring of
 * KEEP views (default 1024) stays alive, so at any time the big blocks are
 * pinned by many small views: the pattern sliceleak exists to report, and a
 * realistic live-view set for the tracker's view bookkeeping. Every round
 * also takes a sub-slice of a sub-slice (sl_sub on a view), as parsers do.
 *
 * usage: slice_bench [-n ROUNDS] [-b BLOCKS] [-z BLOCK_MIB] [-k KEEP]
 * Events: each round is 2 sl_sub + 2 sl_release (4 slice events).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sliceleak/slice.h>

#include "call_chain.h"

static sl_slice *g_blocks;
static size_t g_nblocks = 4, g_block_bytes = 16u << 20;
static sl_slice *g_ring;
static size_t g_keep = 1024;

NOIPA static size_t leaf(size_t i)
{
	sl_slice big = g_blocks[i % g_nblocks];
	size_t lo = (i * 4096 + i / 7) % (g_block_bytes - 4096);
	size_t len = 1 + i % 1500; /* a packet-sized view */
	sl_slice v = sl_sub(big, lo, lo + len);
	sl_slice w = sl_sub(v, 0, len / 2); /* a view of the view */
	size_t r = *(unsigned char *)sl_at(v, len - 1) + w.len;
	size_t slot = i % g_keep;

	sl_release(&g_ring[slot]); /* drop the oldest kept view */
	g_ring[slot] = w;          /* keep this one: small views pin the big blocks */
	sl_release(&v);
	return r;
}

LEVEL(7, leaf)
LEVEL(6, lvl7)
LEVEL(5, lvl6)
LEVEL(4, lvl5)
LEVEL(3, lvl4)
LEVEL(2, lvl3)
LEVEL(1, lvl2)

int main(int argc, char **argv)
{
	size_t n = 5000000, sum = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:b:z:k:")) != -1) {
		switch (opt) {
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'b': g_nblocks = strtoull(optarg, NULL, 0); break;
		case 'z': g_block_bytes = strtoull(optarg, NULL, 0) << 20; break;
		case 'k': g_keep = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-n ROUNDS] [-b BLOCKS] [-z BLOCK_MIB] [-k KEEP]\n",
				argv[0]);
			return 2;
		}
	}
	if (g_nblocks < 1 || g_block_bytes < 8192 || g_keep < 1) {
		fprintf(stderr, "%s: bad arguments\n", argv[0]);
		return 2;
	}
	g_blocks = calloc(g_nblocks, sizeof *g_blocks);
	g_ring = calloc(g_keep, sizeof *g_ring);
	if (!g_blocks || !g_ring)
		abort();
	for (size_t b = 0; b < g_nblocks; b++) {
		g_blocks[b] = sl_make(1, g_block_bytes, g_block_bytes);
		if (!g_blocks[b].ptr)
			abort();
		memset(g_blocks[b].ptr, (int)b + 1, g_block_bytes);
	}
	for (size_t i = 0; i < n; i++)
		sum += lvl1(i);
	/* Drop the whole-block views first: for a moment the big blocks live
	 * only through the ring's small views, which `sliceleak report --at
	 * peak` reports as retained memory. */
	for (size_t b = 0; b < g_nblocks; b++)
		sl_release(&g_blocks[b]);
	for (size_t k = 0; k < g_keep; k++)
		sl_release(&g_ring[k]);
	free(g_ring);
	free(g_blocks);
	printf("slice_bench: rounds=%zu blocks=%zu block_mib=%zu keep=%zu checksum=%zu\n", n,
	       g_nblocks, g_block_bytes >> 20, g_keep, sum);
	return 0;
}
