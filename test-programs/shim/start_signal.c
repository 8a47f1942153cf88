/*
 * start_signal.c - a program started under the shim with start=signal and
 * snapshot_signal=SIGUSR2, recorded only from the signal on.
 *
 * Leaks 90 blocks of 1000 bytes and keeps 10 more; then, when something
 * handles SIGUSR2 (the shim, dormant), raises it; then leaks 50 blocks of
 * 2000 bytes, frees the 10 kept from before and keeps one block of 3000
 * bytes in a global. Without a handler it never raises the signal, so it
 * behaves the same without the shim.
 *
 * Expected under the shim (run_shim_test.py, "start-signal"): PROCESS says
 * the recording started late; no block of 1000 bytes in the log; the 50
 * leaks of 2000 bytes reported as leaked, the 3000-byte block as referenced;
 * the 10 frees of blocks from before the start counted as such, never as
 * anomalies. Exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

static void *pre[10];
static char *kept;

int main(void)
{
	struct sigaction sa;

	for (int i = 0; i < 100; i++) {
		char *p = escape(malloc(1000));

		memset(p, 1, 1000);
		if (i < 10)
			pre[i] = p;
	}
	if (sigaction(SIGUSR2, NULL, &sa) == 0 &&
	    ((sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_DFL))
		raise(SIGUSR2);
	for (int i = 0; i < 50; i++)
		memset(escape(malloc(2000)), 2, 2000);
	for (int i = 0; i < 10; i++)
		free(pre[i]);
	kept = malloc(3000);
	memset(kept, 3, 3000);
	printf("done\n");
	return 0;
}
