/*
 * annotate_lib.c - a shared library that annotates its buffer's views
 * through <sliceleak/annotate.h>, linked with nothing of sliceleak.
 * See annotate_main.c for the expected verdict.
 */
#include <stdio.h>

#include <sliceleak/annotate.h>

int annotate_lib_shim_present(void);
void annotate_lib_view(void *owner, char *buf, size_t len);
void annotate_lib_release(void *owner);

int annotate_lib_shim_present(void)
{
	return sliceleak_view_acquire != NULL;
}

void annotate_lib_view(void *owner, char *buf, size_t len)
{
	SLICELEAK_VIEW_ACQUIRE(owner, buf + 8, len);
	printf("LIBACQUIRE %p %p %zu\n", owner, (void *)(buf + 8), len);
}

void annotate_lib_release(void *owner)
{
	SLICELEAK_VIEW_RELEASE(owner);
	printf("LIBRELEASE %p\n", owner);
}
