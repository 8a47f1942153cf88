/*
 * signal_malloc.c [exit] - a SIGALRM handler that mallocs and frees (not
 * async-signal-safe, but real programs do it) while the main thread and a
 * second thread allocate in a loop, for at least 0.3 s and 60 signals. With "exit" the
 * handler calls _exit(3) at its 50th signal instead, likely while the main
 * thread is inside the shim.
 *
 * Expected under the shim: no deadlock, same output and exit status (0, or
 * 3 with "exit"); the log is complete (END), or with "exit" at least
 * readable.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

static atomic_int handled;
static atomic_bool stop;
static bool exit_in_handler;

static void on_alarm(int sig)
{
	void *p = escape(malloc(100));

	(void)sig;
	free(p);
	if (atomic_fetch_add(&handled, 1) == 50 && exit_in_handler)
		_exit(3);
}

static void *churn(void *arg)
{
	(void)arg;
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		free(escape(malloc(64)));
		if (n % 16 == 0)
			usleep(10); /* keeps the log small enough to check quickly */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct timespec t0, t;
	long elapsed;
	unsigned n = 0;
	pthread_t th;

	exit_in_handler = argc > 1 && strcmp(argv[1], "exit") == 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	if (pthread_create(&th, NULL, churn, NULL))
		return 1;
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		void *p = escape(malloc(48));

		free(p);
		if (++n % 16 == 0)
			usleep(10);
		clock_gettime(CLOCK_MONOTONIC, &t);
		elapsed = (t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec);
		/* at least 0.3 s and 60 signals (a loaded machine coalesces timer signals) */
	} while ((elapsed < 300000000L || atomic_load(&handled) < 60) && elapsed < 20000000000L);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	printf("signals handled: %s\n", atomic_load(&handled) > 10 ? "many" : "few");
	return 0;
}
