/*
 * signal_free.c - a signal handler frees the blocks the interrupted code
 * allocated. main allocates 1000 blocks of 4321 bytes, then allocates and
 * frees in a loop (mostly inside the shim, under it) while an interval
 * timer sends it SIGALRM every 100 us; each handler call frees the next of
 * the 1000 blocks, until all are freed.
 *
 * Expected under the shim: "freed 1000", exit 0; the log holds all 1000
 * ALLOCs and all 1000 FREEs of the 4321-byte blocks (none looks leaked),
 * and replays without anomalies.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "escape.h"

#define N 1000

static void *blocks[N];
static atomic_int handled;

static void on_alarm(int sig)
{
	int i = atomic_load(&handled);

	(void)sig;
	if (i >= N)
		return;
	free(blocks[i]);
	blocks[i] = NULL;
	atomic_store(&handled, i + 1);
}

int main(void)
{
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	struct sigaction sa;
	unsigned n = 0;
	int freed = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 0; i < N; i++)
		blocks[i] = escape(malloc(4321));
	setitimer(ITIMER_REAL, &it, NULL);
	while (atomic_load(&handled) < N) {
		void *p = escape(malloc(16 + n++ % 64));

		free(p);
		for (volatile int k = 0; k < 100; k++) /* keeps the log small: some time outside */
			;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < N; i++)
		freed += blocks[i] == NULL;
	printf("freed %d\n", freed);
	return 0;
}
