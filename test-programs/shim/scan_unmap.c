/*
 * scan_unmap.c - memory disappearing under the pointer scan.
 *
 * Three threads map 8 MiB, fill it with a heap address (so every word is
 * a candidate) and unmap it, in a loop that never stops; the main thread
 * takes a few snapshots and then exits while they run. The scans at the
 * snapshots and at exit read mappings that vanish under them.
 *
 * Expected under the shim: exit 0 with "done" printed, like without it; a
 * complete log (every scan well formed: the analyzer reads it).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
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

int main(void)
{
	pthread_t th;
	void *block = malloc(4096);

	if (!block)
		return 1;
	for (int i = 0; i < 3; i++)
		if (pthread_create(&th, NULL, churn, block))
			return 1;
	for (int i = 0; i < 5; i++) {
		usleep(10000);
		SLICELEAK_SNAPSHOT("churn");
	}
	usleep(10000);
	printf("done\n");
	fflush(stdout);
	exit(0);
}
