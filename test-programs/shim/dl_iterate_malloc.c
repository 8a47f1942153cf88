/*
 * dl_iterate_malloc.c PLUGIN - one thread allocates inside its own
 * dl_iterate_phdr() callback (holding the loader's lock) while another
 * dlopens/dlcloses PLUGIN and allocates through it (so the shim must
 * rewrite its module map, which needs the loader's lock).
 *
 * Expected under the shim: no deadlock (the shim never calls the loader
 * while holding its writer lock), same output, a complete log. Exit 0.
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"

static atomic_bool stop;

static int callback(struct dl_phdr_info *info, size_t size, void *data)
{
	unsigned long *n = data;

	(void)info;
	(void)size;
	free(escape(malloc(64))); /* with the loader's lock held */
	(*n)++;
	return 0;
}

static void *iterate(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!atomic_load(&stop))
		dl_iterate_phdr(callback, &n);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int ok = 0;

	if (argc < 2)
		return 2;
	if (pthread_create(&t, NULL, iterate, NULL))
		return 1;
	for (int i = 0; i < 200; i++) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		void *(*fn)(size_t);

		if (!h)
			return 1;
		*(void **)&fn = dlsym(h, "plugin_alloc");
		if (fn) {
			free(fn(100 + (size_t)i));
			ok++;
		}
		dlclose(h);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	printf("%d rounds\n", ok);
	return ok == 200 ? 0 : 1;
}
