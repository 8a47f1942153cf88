/*
 * exit_realloc.c - the main thread calls exit() while three threads
 * realloc, malloc and free as fast as they can: the shim finishes the log
 * while the others are inside (or entering) its hooks.
 *
 * Expected under the shim: exit 0, "exiting"; the log is complete and
 * replays without anomalies: no block is allocated at an address that is
 * still live, none freed that is not.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "escape.h"

static atomic_int started;

static void *reallocer(void *arg)
{
	void *p = NULL;
	unsigned seed = (unsigned)(size_t)arg;

	atomic_fetch_add(&started, 1);
	for (unsigned r = 0;; r++) {
		size_t size = (r % 2) ? 40 + r % 200 : 3000 + (r * seed) % 5000;
		void *q = realloc(p, size);

		if (!q)
			abort();
		p = q;
		free(escape(malloc(24 + r % 100)));
	}
	return NULL;
}

int main(void)
{
	pthread_t t[3];

	for (size_t i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, reallocer, (void *)(i + 1)))
			return 1;
	while (atomic_load(&started) < 3)
		usleep(1000);
	usleep(30000);
	printf("exiting\n");
	fflush(stdout);
	exit(0);
}
