/* dl_plugin.c - loaded and unloaded in a loop by dlopen_loop.c. */
#include <stdlib.h>
#include <string.h>

void *plugin_alloc(size_t n);

void *plugin_alloc(size_t n)
{
	char *p = malloc(n);

	if (p)
		memset(p, 1, n);
	return p;
}
