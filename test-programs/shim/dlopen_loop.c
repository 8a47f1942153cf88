/*
 * dlopen_loop.c PLUGIN - dlopen/dlclose a plugin 50 times, allocating
 * through it each time.
 *
 * Expected under the shim: same output; the log holds MODULE records for
 * the plugin (the map is rewritten after loads and unloads) and 50 ALLOCs
 * of 7777 bytes whose innermost frame lies inside the plugin as described
 * by the module map in force at that point. Exit 0.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int ok = 0;

	if (argc < 2)
		return 2;
	for (int i = 0; i < 50; i++) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		void *(*fn)(size_t);
		void *sym;

		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		sym = dlsym(h, "plugin_alloc");
		*(void **)&fn = sym;
		if (fn) {
			void *p = fn(7777);

			ok += p != NULL;
			free(p);
		}
		dlclose(h);
	}
	printf("%d allocations through the plugin\n", ok);
	return ok == 50 ? 0 : 1;
}
