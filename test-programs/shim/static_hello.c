/*
 * static_hello.c - linked statically: LD_PRELOAD cannot reach it.
 *
 * Expected under the shim: runs exactly as without it (nothing hangs) and
 * leaves no log: statically linked programs are documented as untraceable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *p = malloc(100);

	if (!p)
		return 1;
	strcpy(p, "static program ran");
	puts(p);
	free(p);
	return 0;
}
