/*
 * scan_unmap.c - memory disappearing under the pointer scan.
 *
 * Three threads map 8 MiB, fill it with a heap address (so every word is
 * a candidate) and unmap it, in a loop that never stops; the main thread
 * takes a few snapshots and then exits while they run. The scans at the
 * snapshots and at exit read mappings that vanish under them.
 *
 * With `fork` as argument, a fourth thread takes snapshots in a loop while
 * the main thread forks 20 children that exit at once with _exit (each
 * child scans at its end; a fork waits for a scan in progress).
 *
 * Expected under the shim: exit 0 with "done" printed, like without it; a
 * complete log per process (every scan well formed: the analyzer reads it).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sliceleak/annotate.h>

#define SIZE (8u << 20)

static void *churn(void *arg)
{
	for (;;) {
		uint64_t *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				   -1, 0);

		if (p == MAP_FAILED)
			continue;
		for (size_t i = 0; i < SIZE / 8; i += 7)
			p[i] = (uint64_t)(uintptr_t)arg;
		munmap(p, SIZE);
	}
	return NULL;
}

static void *snapshots(void *arg)
{
	(void)arg;
	for (;;) {
		SLICELEAK_SNAPSHOT("loop");
		usleep(1000);
	}
	return NULL;
}

/* Children that end at once, while snapshots and unmapping go on. */
static int forks(void)
{
	for (int i = 0; i < 20; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(7);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 7)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th;
	void *block = malloc(4096);

	if (!block)
		return 1;
	for (int i = 0; i < 3; i++)
		if (pthread_create(&th, NULL, churn, block))
			return 1;
	if (argc > 1 && !strcmp(argv[1], "fork")) {
		if (pthread_create(&th, NULL, snapshots, NULL) || forks())
			return 1;
		printf("done\n");
		fflush(stdout);
		exit(0);
	}
	for (int i = 0; i < 5; i++) {
		usleep(10000);
		SLICELEAK_SNAPSHOT("churn");
	}
	usleep(10000);
	printf("done\n");
	fflush(stdout);
	exit(0);
}
