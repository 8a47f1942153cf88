/*
 * sigkill_loop.c - allocates; prints "ready" once it has made enough
 * events to fill the shim's buffer several times, then waits (with events
 * still unflushed in the buffer) until the test kills it with SIGKILL.
 *
 * Expected under the shim: the log reads cleanly up to its last flushed
 * record and is reported truncated (no END), with many records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	void *keep[256] = { 0 };

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
