/*
 * realloc_race.c - one thread reallocs blocks up and down while another
 * mallocs and frees: the addresses realloc gives back are handed to the
 * other thread at once.
 *
 * Expected under the shim: same output; the log replays with zero anomalies
 * (a REALLOC's old block is never allocated by the other thread before the
 * REALLOC appears). Exit 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"

#define ROUNDS 30000

static atomic_bool stop;

static void *reallocer(void *arg)
{
	void *p = NULL;

	(void)arg;
	for (unsigned r = 0; r < ROUNDS; r++) {
		size_t size = (r % 2) ? 40 + r % 200 : 3000 + r % 5000;
		void *q = realloc(p, size);

		if (!q)
			abort();
		p = q;
	}
	free(p);
	atomic_store(&stop, true);
	return NULL;
}

static void *churner(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		void *a = escape(malloc(40 + n % 200)), *b = escape(malloc(3000 + n % 5000));

		free(a);
		free(b);
		n++;
	}
	return NULL;
}

int main(void)
{
	pthread_t a, b;

	if (pthread_create(&a, NULL, reallocer, NULL) || pthread_create(&b, NULL, churner, NULL))
		return 1;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("done %d reallocs\n", ROUNDS);
	return 0;
}
