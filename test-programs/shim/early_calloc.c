/*
 * early_calloc.c - linked with a library that callocs from its
 * constructor.
 *
 * Expected under the shim: the log holds that ALLOC (fn calloc, 12729
 * bytes, the address printed here): the first intercepted call starts the
 * tracker if our constructor has not run yet. Exit 0.
 */
#include <stdio.h>
#include <stdlib.h>

extern void *early_block;
size_t early_size(void);

int main(void)
{
	if (!early_block)
		return 1;
	printf("EARLY %p %zu\n", early_block, early_size());
	free(early_block);
	return 0;
}
