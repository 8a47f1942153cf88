/*
 * alloc_bench.c [N] [THREADS] - allocation microbenchmark: N malloc/free
 * pairs (1M by default) per thread under a 16-frame call chain, sizes
 * varying, on THREADS threads (1 by default). Used to measure the shim's
 * cost per event and the log's bytes per event (the runner's
 * "bytes-per-event" test); not a pass/fail verdict on speed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"

__attribute__((noinline)) static void leaf(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		void *p = escape(malloc(16 + (i & 255)));

		free(p);
	}
}

__attribute__((noinline)) static void chain(int depth, unsigned long n)
{
	if (depth == 0)
		leaf(n);
	else
		chain(depth - 1, n);
	__asm__ volatile("" ::: "memory"); /* not a tail call: keep the frames */
}

static void *run(void *arg)
{
	chain(14, *(unsigned long *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t t[64];

	if (threads < 1 || threads > 64)
		return 2;
	for (int i = 1; i < threads; i++)
		if (pthread_create(&t[i], NULL, run, &n))
			return 1;
	run(&n);
	for (int i = 1; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%lu pairs x %d threads\n", n, threads);
	return 0;
}
