/*
 * fork_threads.c - forks 30 times while 3 other threads allocate and free
 * as fast as they can, so forks land in the middle of their events (inside
 * the shim's stack capture, its writer lock, libc's malloc).
 *
 * Expected under the shim: no deadlock in parent or children; every child
 * allocates 4321 bytes and exits; 31 complete logs (the parent and one per
 * child), the parent's replaying with zero anomalies. Exit 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

static atomic_bool stop;

static void *churn(void *arg)
{
	unsigned long n = (unsigned long)(uintptr_t)arg;

	while (!atomic_load(&stop)) {
		void *p = escape(malloc(16 + n % 300));
		void *q = escape(realloc(p, 400 + n % 900));

		free(q);
		n++;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[3];
	int ok = 0;

	for (uintptr_t i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, churn, (void *)i))
			return 1;
	for (int i = 0; i < 30; i++) {
		pid_t pid;
		int status;

		usleep(2000);
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			free(escape(malloc(4321)));
			exit(0);
		}
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			ok++;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("%d children exited cleanly\n", ok);
	return ok == 30 ? 0 : 1;
}
