/*
 * signal_malloc.c - a SIGALRM handler that mallocs and frees (not
 * async-signal-safe, but real programs do it) while the main thread and a
 * second thread allocate in a loop, for about 0.3 s.
 *
 * Expected under the shim: no deadlock, same output, the log is complete
 * (END). Exit 0.
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

#include "escape.h"

static atomic_int handled;
static atomic_bool stop;

static void on_alarm(int sig)
{
	void *p = escape(malloc(100));

	(void)sig;
	free(p);
	atomic_fetch_add(&handled, 1);
}

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		free(escape(malloc(64)));
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct timespec t0, t;
	pthread_t th;

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
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	printf("signals handled: %s\n", atomic_load(&handled) > 10 ? "many" : "few");
	return 0;
}
