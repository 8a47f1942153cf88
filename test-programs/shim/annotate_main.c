/*
 * annotate_main.c - the annotation API from a PIE executable and from a
 * shared library (annotate_lib.c), neither linked with sliceleak.
 *
 * Expected without the shim: runs, prints "shim=0 lib=0", exit 0 (the weak
 * references are NULL and the macros do nothing).
 * Expected under the shim: prints "shim=1 lib=1"; the log holds, in order,
 * the VIEW_ACQUIRE / VIEW_RELEASE / SNAPSHOT records matching the
 * ACQUIRE/RELEASE/SNAPSHOT lines printed here (owner, ptr, len, label),
 * each with a non-empty stack. Exit 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sliceleak/annotate.h>

int annotate_lib_shim_present(void);
void annotate_lib_view(void *owner, char *buf, size_t len);
void annotate_lib_release(void *owner);

int main(void)
{
	char *block = malloc(1 << 20);
	int owner_a, owner_b;

	if (!block)
		return 1;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("shim=%d lib=%d\n", sliceleak_view_acquire != NULL, annotate_lib_shim_present());

	SLICELEAK_VIEW_ACQUIRE(&owner_a, block + 100, 5);
	printf("ACQUIRE %p %p %d\n", (void *)&owner_a, (void *)(block + 100), 5);
	annotate_lib_view(&owner_b, block, 0);
	SLICELEAK_SNAPSHOT("after-acquire");
	printf("SNAPSHOT after-acquire\n");
	SLICELEAK_VIEW_RELEASE(&owner_a);
	printf("RELEASE %p\n", (void *)&owner_a);
	annotate_lib_release(&owner_b);
	free(block);
	return 0;
}
