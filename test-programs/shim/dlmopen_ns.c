/*
 * dlmopen_ns.c PLUGIN - loads PLUGIN into a new link-map namespace
 * (dlmopen LM_ID_NEWLM) and allocates 20 blocks of 7777 bytes through it,
 * freeing them with that namespace's own free.
 *
 * A new namespace gets its own copy of libc and none of the LD_PRELOAD
 * objects: its allocations never reach the shim (a documented limit). The
 * program must run as without the shim and its log be complete.
 * Output "namespace 20". Exit 0.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	void *(*alloc)(size_t);
	void (*ns_free)(void *);
	void *h, *sym;
	int n = 0;

	if (argc < 2)
		return 2;
	h = dlmopen(LM_ID_NEWLM, argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	sym = dlsym(h, "plugin_alloc");
	*(void **)&alloc = sym;
	sym = dlsym(h, "free"); /* the namespace's libc: its blocks are not ours */
	*(void **)&ns_free = sym;
	if (!alloc || !ns_free)
		return 1;
	for (int i = 0; i < 20; i++) {
		void *p = alloc(7777);

		n += p != NULL;
		ns_free(p);
	}
	printf("namespace %d\n", n);
	dlclose(h);
	return 0;
}
