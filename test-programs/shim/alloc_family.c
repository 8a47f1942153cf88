/*
 * alloc_family.c - one block through every malloc-family entry point.
 *
 * Expected under the shim: for every line "ALLOC fn addr size align" this
 * program prints, the log holds an ALLOC (or REALLOC for the "REALLOC"
 * lines) with that fn, address, requested size and alignment, and a FREE
 * for every block it frees (also the one realloc(p, 0) frees).
 * malloc_usable_size keeps working. Exit 0.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void report(const char *fn, void *p, size_t size, size_t align)
{
	if (!p) {
		fprintf(stderr, "%s failed\n", fn);
		exit(1);
	}
	printf("ALLOC %s %p %zu %zu\n", fn, p, size, align);
}

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *blocks[16];
	int n = 0;
	void *volatile null = NULL; /* keeps gcc from turning realloc(NULL, n) into malloc(n) */
	volatile size_t zero = 0;
	uintptr_t old;
	void *p, *q;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16); /* stdio's own buffer first */

	blocks[n] = malloc(1001);
	report("malloc", blocks[n++], 1001, 0);
	blocks[n] = calloc(7, 143);
	report("calloc", blocks[n++], 7 * 143, 0);
	if (((unsigned char *)blocks[n - 1])[500] != 0)
		return 1;
	blocks[n] = realloc(null, 1003);
	report("realloc", blocks[n++], 1003, 0);
	blocks[n] = reallocarray(null, 3, 335);
	report("reallocarray", blocks[n++], 3 * 335, 0);
	if (posix_memalign(&p, 64, 1005) != 0)
		return 1;
	blocks[n] = p;
	report("posix_memalign", blocks[n++], 1005, 64);
	blocks[n] = aligned_alloc(128, 1024);
	report("aligned_alloc", blocks[n++], 1024, 128);
	blocks[n] = memalign(256, 1007);
	report("memalign", blocks[n++], 1007, 256);
	blocks[n] = valloc(1009);
	report("valloc", blocks[n++], 1009, page);
	blocks[n] = pvalloc(1011);
	report("pvalloc", blocks[n++], 1011, page);

	for (int i = 0; i < n; i++) {
		if (malloc_usable_size(blocks[i]) < 1001)
			return 1;
	}
	if ((uintptr_t)blocks[4] % 64 || (uintptr_t)blocks[5] % 128 ||
	    (uintptr_t)blocks[6] % 256 || (uintptr_t)blocks[7] % page ||
	    (uintptr_t)blocks[8] % page)
		return 1;

	/* A growing realloc and a reallocarray of live blocks: one REALLOC each. */
	old = (uintptr_t)blocks[0];
	q = realloc(blocks[0], 200000);
	if (!q)
		return 1;
	printf("REALLOC realloc %#lx %p %d\n", (unsigned long)old, q, 200000);
	blocks[0] = q;
	old = (uintptr_t)blocks[1];
	q = reallocarray(blocks[1], 5, 4001);
	if (!q)
		return 1;
	printf("REALLOC reallocarray %#lx %p %d\n", (unsigned long)old, q, 5 * 4001);
	blocks[1] = q;

	for (int i = 0; i < n; i++) {
		printf("FREE %p\n", blocks[i]);
		free(blocks[i]);
	}

	/* realloc(p, 0) frees p in glibc: a FREE, no REALLOC */
	p = malloc(55);
	if (!p)
		return 1;
	report("malloc", p, 55, 0);
	old = (uintptr_t)p;
	if (realloc(p, zero) != NULL)
		return 1;
	printf("FREE %#lx\n", (unsigned long)old);
	return 0;
}
