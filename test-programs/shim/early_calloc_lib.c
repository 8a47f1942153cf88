/*
 * early_calloc_lib.c - a library whose constructor allocates, which may
 * run before the shim's own constructor. See early_calloc.c.
 */
#include <stdlib.h>

void *early_block;
size_t early_size(void);

__attribute__((constructor)) static void early(void)
{
	early_block = calloc(4243, 3); /* 12729 bytes: easy to find in the log */
}

size_t early_size(void)
{
	return 4243 * 3;
}
