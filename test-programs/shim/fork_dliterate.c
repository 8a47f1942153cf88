/*
 * fork_dliterate.c - forks 10 times while another thread sits in
 * dl_iterate_phdr() callbacks (holding the loader's lock, which glibc does
 * not reset in a fork child). Each child allocates and exits; the parent
 * gives each child 5 s, then kills it and counts it as hung.
 *
 * Expected under the shim: "children hung: 0 of 10", as without it: the
 * child's new log takes its module map from a scan the parent made before
 * the fork and never calls the loader itself. Exit 0.
 */
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

static int slow_callback(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	(void)data;
	usleep(1000);
	return 0;
}

static void *iterate(void *arg)
{
	(void)arg;
	for (;;)
		dl_iterate_phdr(slow_callback, NULL);
	return NULL;
}

/* Waits up to 5 s for pid; kills it if it is still there. Returns true if it exited 0. */
static int reap(pid_t pid)
{
	int status;

	for (int i = 0; i < 500; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 0;
}

int main(void)
{
	pthread_t t;
	int hung = 0;

	if (pthread_create(&t, NULL, iterate, NULL))
		return 1;
	usleep(10000);
	for (int i = 0; i < 10; i++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			free(escape(malloc(4321)));
			exit(0);
		}
		hung += !reap(pid);
	}
	printf("children hung: %d of 10\n", hung);
	return hung ? 1 : 0;
}
