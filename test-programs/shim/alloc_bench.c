/*
 * alloc_bench.c [N] - allocation microbenchmark: N malloc/free pairs (1M by
 * default) under a 16-frame call chain, sizes varying. Used to measure the
 * shim's cost per event and the log's bytes per event (see the runner's
 * "bytes-per-event" test); not a pass/fail verdict on speed.
 */
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

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;

	chain(14, n);
	printf("%lu pairs\n", n);
	return 0;
}
