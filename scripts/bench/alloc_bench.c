/*
 * scripts/bench/alloc_bench.c - the allocation-heavy microbenchmark.
 *
 * N malloc/free pairs in total, split evenly over T threads. Every malloc is
 * made 16 noinline frames below the thread's entry function (lvl1 .. lvl14,
 * leaf, leafK), so a tracker has to unwind a real call chain on every event.
 * Built with -O2 -g and without frame pointers, as distributions build.
 *
 * Sizes: STEP * (1 + i % (MAX / STEP)), i = 0 .. N-1 (i runs over the
 * whole benchmark: thread t does i = t*N/T .. (t+1)*N/T - 1).
 *   -s 16 -m 4096     sizes 16, 32, .., 4096 (256 distinct sizes; default)
 *   -s 1  -m N        sizes 1, 2, .., N: every allocation has its own size
 *
 * Chains: with -c C (default 1), allocation i is made by leaf number
 * (i / (MAX / STEP)) % C, each with its own malloc call site: every pass
 * over the size range comes from a different stack, so -s 1 -m M -c C
 * -n M*C makes M*C distinct (size, stack) pairs while no size exceeds M
 * (sizes past glibc's 32 MiB mmap threshold ceiling would turn the
 * benchmark into an mmap/munmap benchmark).
 *
 * Keep: with -k, no block is freed: each is pushed on its thread's list
 * (its first word points to the block allocated before it), so N blocks
 * are live at exit, one pointer to each, held by the block after it (the
 * last one by a global). Sizes must then be at least 8.
 *
 * usage: alloc_bench [-n PAIRS] [-t THREADS] [-s STEP] [-m MAX] [-c CHAINS] [-k]
 * Prints one line "alloc_bench: pairs=.. threads=.. checksum=.." on stdout.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call_chain.h"

static size_t g_step = 16, g_max = 4096;

static size_t g_chains = 1;
static int g_keep;
static __thread void *t_list; /* -k: the thread's newest block */

/* One allocation site per chain: the same body, a different call site. */
#define LEAF(k)                                                                  \
	NOIPA static size_t leaf##k(size_t i)                                    \
	{                                                                        \
		size_t size = g_step * (1 + i % (g_max / g_step));               \
		char *p = malloc(size);                                          \
                                                                                 \
		if (!p)                                                          \
			abort();                                                 \
		p[0] = (char)i; /* touch it: an unused malloc may be elided */   \
		size_t r = (size_t)(unsigned char)((volatile char *)p)[0] + k;   \
		if (g_keep) {                                                    \
			*(void **)p = t_list;                                    \
			t_list = p;                                              \
		} else {                                                         \
			free(p);                                                 \
		}                                                                \
		return r + size;                                                 \
	}
LEAF(0)
LEAF(1)
LEAF(2)
LEAF(3)
LEAF(4)
LEAF(5)
LEAF(6)
LEAF(7)

/* The 15th level: picks the chain's leaf (a switch, not a table, so each
 * leaf is called from its own return address). */
NOIPA static size_t leaf(size_t i)
{
	size_t r;

	switch ((i / (g_max / g_step)) % g_chains) {
	case 0: r = leaf0(i); break;
	case 1: r = leaf1(i); break;
	case 2: r = leaf2(i); break;
	case 3: r = leaf3(i); break;
	case 4: r = leaf4(i); break;
	case 5: r = leaf5(i); break;
	case 6: r = leaf6(i); break;
	default: r = leaf7(i); break;
	}
	__asm__ volatile("" : "+r"(r));
	return r + 16;
}

LEVEL(14, leaf)
LEVEL(13, lvl14)
LEVEL(12, lvl13)
LEVEL(11, lvl12)
LEVEL(10, lvl11)
LEVEL(9, lvl10)
LEVEL(8, lvl9)
LEVEL(7, lvl8)
LEVEL(6, lvl7)
LEVEL(5, lvl6)
LEVEL(4, lvl5)
LEVEL(3, lvl4)
LEVEL(2, lvl3)
LEVEL(1, lvl2)

struct job {
	size_t from, to, sum;
	void *list; /* -k: the thread's blocks */
};

static void *worker(void *arg)
{
	struct job *j = arg;
	size_t sum = 0;

	for (size_t i = j->from; i < j->to; i++)
		sum += lvl1(i);
	j->sum = sum;
	j->list = t_list;
	return NULL;
}

int main(int argc, char **argv)
{
	size_t n = 10000000, threads = 1;
	int opt;

	while ((opt = getopt(argc, argv, "n:t:s:m:c:k")) != -1) {
		switch (opt) {
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 't': threads = strtoull(optarg, NULL, 0); break;
		case 's': g_step = strtoull(optarg, NULL, 0); break;
		case 'm': g_max = strtoull(optarg, NULL, 0); break;
		case 'c': g_chains = strtoull(optarg, NULL, 0); break;
		case 'k': g_keep = 1; break;
		default:
			fprintf(stderr, "usage: %s [-n PAIRS] [-t THREADS] [-s STEP] [-m MAX] [-c CHAINS] [-k]\n", argv[0]);
			return 2;
		}
	}
	if (threads < 1 || threads > 64 || g_step < 1 || g_max < g_step || g_chains < 1 ||
	    g_chains > 8 || (g_keep && g_step < sizeof(void *))) {
		fprintf(stderr, "%s: bad arguments\n", argv[0]);
		return 2;
	}

	static struct job jobs[64]; /* static: -k's lists stay reachable from here */
	pthread_t tid[64];
	size_t sum = 0;

	for (size_t t = 0; t < threads; t++) {
		jobs[t].from = n * t / threads;
		jobs[t].to = n * (t + 1) / threads;
		jobs[t].sum = 0;
		jobs[t].list = NULL;
	}
	if (threads == 1) {
		worker(&jobs[0]);
	} else {
		for (size_t t = 0; t < threads; t++)
			if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0)
				abort();
		for (size_t t = 0; t < threads; t++)
			pthread_join(tid[t], NULL);
	}
	for (size_t t = 0; t < threads; t++)
		sum += jobs[t].sum;
	printf("alloc_bench: pairs=%zu threads=%zu step=%zu max=%zu chains=%zu%s checksum=%zu\n", n,
	       threads, g_step, g_max, g_chains, g_keep ? " kept" : "", sum);
	return 0;
}
