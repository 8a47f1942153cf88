/*
 * threads_cross_free.c - 4 threads, each freeing the blocks another one
 * allocated, so freed addresses are reused across threads all the time.
 *
 * Expected under the shim: same output as without it; the log replays
 * with zero anomalies (no FREE of an address that is not live, no ALLOC of
 * an address that is live) and ends with END. Exit 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 20000
#define SLOTS 64

/* One mailbox per thread: thread i allocates into box[(i + 1) % THREADS]. */
static struct box {
	_Atomic(void *) slot[SLOTS];
} boxes[THREADS];

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct box *mine = &boxes[id], *next = &boxes[(id + 1) % THREADS];
	unsigned long sum = 0;

	for (unsigned r = 0; r < ROUNDS; r++) {
		unsigned s = (r * 7 + id) % SLOTS;
		size_t size = 16 + (r % 13) * 24;
		unsigned char *p = malloc(size);
		void *old;

		if (!p)
			abort();
		memset(p, (int)(r & 0xff), size);
		old = atomic_exchange(&next->slot[s], p);
		free(old); /* a block some other thread allocated (or NULL) */
		old = atomic_exchange(&mine->slot[(s + 3) % SLOTS], NULL);
		if (old)
			sum += ((unsigned char *)old)[0];
		free(old);
	}
	return (void *)sum;
}

int main(void)
{
	pthread_t t[THREADS];

	for (unsigned i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			return 1;
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (unsigned i = 0; i < THREADS; i++)
		for (unsigned s = 0; s < SLOTS; s++)
			free(atomic_load(&boxes[i].slot[s]));
	printf("done %d threads x %d rounds\n", THREADS, ROUNDS);
	return 0;
}
