/*
 * exec_self.c - allocates, then execs itself with "second", which
 * allocates again and exits.
 *
 * Expected under the shim: two logs with the same pid, each complete (END):
 * the first holds the ALLOC of 11111 bytes, the second the ALLOC of 22222
 * bytes. Output "first" then "second". Exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "second") == 0) {
		void *p = escape(malloc(22222));

		printf("second\n");
		free(p);
		return 0;
	}
	{
		void *p = escape(malloc(11111));
		char *args[] = { argv[0], "second", NULL };

		printf("first\n");
		fflush(stdout);
		free(p);
		execv("/proc/self/exe", args);
		perror("execv");
		return 1;
	}
}
