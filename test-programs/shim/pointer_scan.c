/*
 * pointer_scan.c - the pointer scan (format.h 1.1) on a structure whose
 * every pointer is known: the pointer-elements pattern.
 *
 * An array block of N pointers to N target blocks, pinned by an annotated
 * view of its first KEEP elements (the dead tail still holds N - KEEP
 * pointers); a global holding target N-1; a page of the program's own
 * anonymous memory holding target 1; a stack slot holding target 0 at the
 * snapshot. Everything stays allocated to the end.
 *
 * Prints each known pointer as "<WHERE> <location> <value>" (ARR lines for
 * the array's slots, GLOBAL, ANON, STACK), each target as
 * "T <i> <addr> <size>", then calls sliceleak_snapshot("scan").
 *
 * Expected under the shim (scan on): two scans, one right after the
 * SNAPSHOT record and one right before END, each contiguous, capped=0,
 * holding the (location, value) pairs printed here in regions of the right
 * kind (ARR: heap, GLOBAL: globals, ANON: anon; STACK: stack, snapshot
 * scan only). STALE: a value main's callee left in dead stack memory;
 * the exit scan, which reads the stack from the frame that called exit
 * (here _start: main returned), has no stack word holding it. FOREIGN: a
 * global pointing into 256 KiB of the program's own mmap'd memory placed
 * between the brk heap and a 1 MiB (mmap'd) block, so inside the scan's
 * span but in no granule a block touched (format.h 2.0): neither scan
 * records it; SPAN prints that block's bounds. With `big`
 * as argument it also fills an 8 MiB block (for
 * the cap test). Exit 0, same output without the shim.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sliceleak/annotate.h>

#include "escape.h"

#define N 10
#define KEEP 2

void *g_keep; /* a global reference: target N-1 is also held by the program */
void *g_foreign; /* into memory no block ever occupied */

/*
 * Leaves 512 copies of p in stack memory below main's frame, dead once
 * this returns: after main returns, exit()'s frames reuse that memory,
 * and their unused slots still hold copies. Not a reference.
 */
static __attribute__((noinline)) void stale_copies(void *p)
{
	void *volatile slots[512];

	for (int i = 0; i < 512; i++)
		slots[i] = p;
	escape((void *)slots);
}

int main(int argc, char **argv)
{
	void **arr = malloc(N * sizeof(void *));
	void **anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *t[N];
	void *volatile on_stack;
	int owner;

	if (!arr || anon == MAP_FAILED)
		return 1;
	char *far = malloc(1 << 20); /* mmap'd: widens the span past the foreign memory */
	char *foreign;

	if (!far)
		return 1;
	/* below the block, 512 KiB away: between the brk heap and it, never in its granules */
	foreign = mmap((void *)(((uintptr_t)far - (512 << 10)) & ~(uintptr_t)0xffff), 256 << 10, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (foreign == MAP_FAILED)
		return 1;
	g_foreign = foreign + 64;
	printf("SPAN %p %p\n", (void *)far, (void *)(far + (1 << 20)));
	if (argc > 1 && !strcmp(argv[1], "big")) {
		char *big = malloc(8 << 20);

		if (!big)
			return 1;
		memset(big, 1, 8 << 20);
		escape(big);
	}
	for (int i = 0; i < N; i++) {
		t[i] = malloc(1000 + (size_t)i);
		if (!t[i])
			return 1;
		arr[i] = t[i];
		printf("T %d %p %d\n", i, t[i], 1000 + i);
	}
	SLICELEAK_VIEW_ACQUIRE(&owner, arr, KEEP * sizeof(void *));
	g_keep = t[N - 1];
	anon[3] = t[1];
	on_stack = t[0];
	for (int i = 0; i < N; i++)
		printf("ARR %p %p\n", (void *)&arr[i], arr[i]);
	printf("GLOBAL %p %p\n", (void *)&g_keep, g_keep);
	printf("ANON %p %p\n", (void *)&anon[3], anon[3]);
	printf("STACK %p %p\n", (void *)&on_stack, on_stack);
	printf("FOREIGN %p %p\n", (void *)&g_foreign, g_foreign);
	fflush(stdout);
	SLICELEAK_SNAPSHOT("scan");
	escape(on_stack);
	escape(arr);
	escape(far);
	stale_copies(t[2]);
	printf("STALE %p %p\n", t[2], t[2]);
	return 0;
}
