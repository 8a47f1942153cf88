/*
 * fsize_limit.c [handler] - run with RLIMIT_FSIZE far smaller than the log
 * the shim would write (`ulimit -f 256`: 256 KiB). Allocates enough for a
 * log of megabytes, writes a small file of its own (well under the limit)
 * and prints what it saw. With "handler" it catches SIGXFSZ itself and
 * prints how many it got: the kernel sends SIGXFSZ for a write past the
 * limit, and no write of the program's goes past it.
 *
 * Expected under the shim: the output and exit status of a plain run (exit
 * 0, "SIGXFSZ: 0" with "handler"), one warning on stderr that the log hit
 * the limit and tracking stopped; the log is cut (no END) but readable.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"

static atomic_int xfsz;

static void on_xfsz(int sig)
{
	(void)sig;
	atomic_fetch_add(&xfsz, 1);
}

int main(int argc, char **argv)
{
	FILE *f;

	if (argc > 1 && strcmp(argv[1], "handler") == 0)
		signal(SIGXFSZ, on_xfsz);
	for (int i = 0; i < 400000; i++)
		free(escape(malloc(16 + (size_t)i % 512)));
	f = fopen("fsize_limit.out", "w");
	if (!f || fprintf(f, "a small file of the program's own\n") < 0 || fclose(f) != 0)
		return 2;
	printf("done");
	if (argc > 1)
		printf(", SIGXFSZ: %d", atomic_load(&xfsz));
	printf("\n");
	return 0;
}
