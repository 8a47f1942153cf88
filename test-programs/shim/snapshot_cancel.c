/*
 * snapshot_cancel.c - a thread cancelled while the shim holds its lock.
 *
 * A thread takes snapshots in a loop (each one flushes the log and scans
 * memory: write, open, read, pread, close, all cancellation points, under
 * the writer lock); the main thread cancels it, joins it, allocates, and
 * does that 20 times.
 *
 * Expected under the shim: "done", exit 0, like without it; a complete
 * log. (Before the fix a thread cancelled inside the writer kept the lock
 * and the next malloc hung forever.)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sliceleak/annotate.h>

#include "escape.h"

static void *snapshots(void *arg)
{
	(void)arg;
	for (;;) {
		SLICELEAK_SNAPSHOT("cancel");
		pthread_testcancel(); /* without the shim, the loop's only cancellation point */
	}
	return NULL;
}

int main(void)
{
	for (int i = 0; i < 20; i++) {
		pthread_t th;

		if (pthread_create(&th, NULL, snapshots, NULL))
			return 1;
		usleep(3000);
		pthread_cancel(th);
		pthread_join(th, NULL);
		free(escape(malloc(10)));
	}
	printf("done\n");
	return 0;
}
