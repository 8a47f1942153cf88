/*
 * signal_free.c - a signal handler frees the blocks the interrupted code
 * allocated. main allocates 2000 blocks of 4321 bytes, then allocates and
 * frees in a loop (mostly inside the shim, under it) while a second thread
 * sends it SIGUSR1 2000 times, each time waiting until the handler ran;
 * each handler call frees the next of the 2000 blocks.
 *
 * Expected under the shim: "freed 2000", exit 0; the log holds all 2000
 * ALLOCs and all 2000 FREEs of the 4321-byte blocks (none looks leaked),
 * and replays without anomalies.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "escape.h"

#define N 2000

static void *blocks[N];
static atomic_int handled;
static pthread_t main_thread;

static void on_usr1(int sig)
{
	int i = atomic_load(&handled);

	(void)sig;
	free(blocks[i]);
	blocks[i] = NULL;
	atomic_store(&handled, i + 1);
}

static void *sender(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++) {
		pthread_kill(main_thread, SIGUSR1);
		while (atomic_load(&handled) <= i)
			sched_yield();
	}
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	pthread_t t;
	unsigned n = 0;
	int freed = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < N; i++)
		blocks[i] = escape(malloc(4321));
	main_thread = pthread_self();
	if (pthread_create(&t, NULL, sender, NULL))
		return 1;
	while (atomic_load(&handled) < N) {
		void *p = escape(malloc(16 + n++ % 64));

		free(p);
	}
	pthread_join(t, NULL);
	for (int i = 0; i < N; i++)
		freed += blocks[i] == NULL;
	printf("freed %d\n", freed);
	return 0;
}
