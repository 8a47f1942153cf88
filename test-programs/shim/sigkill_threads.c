/*
 * sigkill_threads.c - 16 threads churn blocks through one shared table of
 * SLOTS pointers, so a block is often freed (or realloc'd) by another
 * thread than the one that allocated it; prints "ready" once every thread
 * has run, then runs on until it is SIGKILLed.
 *
 * At any moment at most SLOTS blocks of the table are live, plus a few of
 * libc's own (stdio's buffer, each thread's TLS): the test kills it at
 * random moments and expects every truncated log to replay with zero
 * anomalies and no more live blocks than that.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "escape.h"

#define THREADS 16
#define SLOTS	512

static _Atomic(void *) table[SLOTS];
static atomic_uint started;

static void *worker(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;

	atomic_fetch_add(&started, 1);
	for (;;) {
		unsigned i, op;
		void *p;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift */
		i = (unsigned)(x % SLOTS);
		op = (unsigned)(x >> 32) % 8;
		p = atomic_exchange(&table[i], NULL);
		if (!p) {
			p = escape(malloc(16 + (x >> 40) % 2000));
		} else if (op < 3) {
			void *q = realloc(p, 16 + (x >> 40) % 4000);

			p = q ? q : p;
		} else {
			free(p);
			p = NULL;
		}
		if (p && (p = atomic_exchange(&table[i], p)))
			free(p); /* another thread filled the slot meanwhile */
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	for (uintptr_t i = 0; i < THREADS; i++)
		if (pthread_create(&t, NULL, worker, (void *)(i + 1)))
			return 1;
	while (atomic_load(&started) < THREADS)
		usleep(1000);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
