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
 *
 * "quiet": the main thread first allocates 100 blocks of 777 bytes, then
 * starts 2 workers and stays idle; it prints "ready" 50 ms later, once the
 * workers have made another 100000 iterations (many buffers written). The
 * 100 blocks must be in the log, below its cut: a quiet thread's buffer is
 * written by the threads that keep working, long before flush_ms.
 *
 * "idle": the main thread allocates 100 blocks of 777 bytes, each of IDLE
 * workers 100 blocks of 1000 + its number, frees every other one of them
 * and grows one with realloc; then every thread waits for ever (no event
 * at all) and main prints "ready". Killed seconds later, the log must hold
 * every one of these events, with no cut: 100 + IDLE * 50 blocks live.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"

#define THREADS 16
#define SLOTS	512
#define IDLE	4

static _Atomic(void *) table[SLOTS];
static atomic_uint started;
static atomic_ulong iterations;

static void *worker(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;

	atomic_fetch_add(&started, 1);
	for (;;) {
		unsigned i, op;
		void *p;

		atomic_fetch_add_explicit(&iterations, 1, memory_order_relaxed);
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

static pthread_barrier_t planted;

/* "idle": plants its blocks, then waits for ever without an event. */
static void *idle_worker(void *arg)
{
	size_t size = 1000 + (uintptr_t)arg;
	void *keep[100];

	for (int i = 0; i < 100; i++)
		keep[i] = escape(malloc(size));
	for (int i = 0; i < 100; i += 2)
		free(keep[i]);
	keep[1] = escape(realloc(keep[1], 2 * size)); /* a new size: only its REALLOC says it */
	pthread_barrier_wait(&planted);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	bool quiet = argc > 1 && !strcmp(argv[1], "quiet");

	if (argc > 1 && !strcmp(argv[1], "idle")) {
		pthread_t w;

		for (int i = 0; i < 100; i++)
			escape(malloc(777));
		pthread_barrier_init(&planted, NULL, IDLE + 1);
		for (uintptr_t i = 0; i < IDLE; i++)
			if (pthread_create(&w, NULL, idle_worker, (void *)(i + 1)))
				return 1;
		pthread_barrier_wait(&planted);
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	unsigned threads = quiet ? 2 : THREADS;
	pthread_t t;

	if (quiet)
		for (int i = 0; i < 100; i++)
			escape(malloc(777)); /* kept to the end */
	for (uintptr_t i = 0; i < threads; i++)
		if (pthread_create(&t, NULL, worker, (void *)(i + 1)))
			return 1;
	while (atomic_load(&started) < threads)
		usleep(1000);
	if (quiet) {
		unsigned long from;

		usleep(50000);
		from = atomic_load(&iterations);
		while (atomic_load(&iterations) - from < 100000)
			usleep(1000);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
