/*
 * sigkill_loop.c [slow] - allocates; prints "ready" once it has made
 * enough events to fill the shim's buffer several times, then waits (with
 * events still unflushed in the buffer) until the test kills it with
 * SIGKILL. "slow": makes only 100 allocations of 777 bytes, waits 1.5 s,
 * makes one more, then prints "ready" and waits.
 *
 * Expected under the shim: the log reads cleanly up to its last flushed
 * record and is reported truncated (no END), with many records; with
 * "slow", the 100 early ALLOCs are on disk (flush_ms, default 1 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char **argv)
{
	void *keep[256] = { 0 };

	if (argc > 1 && strcmp(argv[1], "slow") == 0) {
		for (int i = 0; i < 100; i++)
			keep[i] = escape(malloc(777));
		usleep(1500000);
		keep[100] = escape(malloc(778)); /* the first event after 1 s: flushes */
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}

	for (unsigned long i = 0;; i++) {
		unsigned k = (unsigned)(i % 256);

		free(keep[k]);
		keep[k] = malloc(32 + i % 512);
		if (i == 200000) {
			printf("ready\n");
			fflush(stdout);
			for (;;)
				pause();
		}
	}
}
