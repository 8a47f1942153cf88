/*
 * sample_leak.c - leaks tens of thousands of small blocks among millions
 * that are freed: what sampled recording must estimate.
 *
 *   sample_leak [ALLOCS [LEAKS [RING]]]   (default 2000000 50000 20000)
 *
 * ALLOCS blocks of 16-1024 bytes (a fixed pseudo-random sequence); every
 * ALLOCS / LEAKS-th one is leaked (its address dropped at once), the others
 * pass through a ring of RING live blocks, which is freed at the end, so
 * the heap peaks at about the leaks so far plus the ring. Blocks never hold
 * pointers: nothing but the program's own variables refers to them.
 * Prints the bytes and blocks it leaked (the truth the estimates are
 * compared with). Expected under the shim (run_shim_test.py, "sampled-
 * estimates"): with sample_bytes=16KiB, the leak and peak estimates within
 * 10% of the exact mode's figures, for every seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

int main(int argc, char **argv)
{
	unsigned long allocs = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	unsigned long leaks = argc > 2 ? strtoul(argv[2], NULL, 10) : 50000;
	unsigned long ring_n = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;
	unsigned long every = leaks ? allocs / leaks : allocs + 1, leaked = 0, leaked_bytes = 0;
	unsigned long x = 12345;
	char **ring = calloc(ring_n ? ring_n : 1, sizeof(*ring));

	if (!ring)
		return 1;
	for (unsigned long i = 0; i < allocs; i++) {
		size_t size;
		char *p;

		x = x * 6364136223846793005ul + 1442695040888963407ul;
		size = 16 + (x >> 33) % 1009;
		p = escape(malloc(size));
		if (!p)
			return 1;
		memset(p, (int)(i & 0x7f), size < 16 ? size : 16);
		if (i % every == every - 1 && leaked < leaks) {
			leaked++;
			leaked_bytes += size;
			continue; /* dropped: leaked */
		}
		if (ring_n) {
			free(ring[i % ring_n]);
			ring[i % ring_n] = p;
		} else {
			free(p);
		}
	}
	for (unsigned long i = 0; i < ring_n; i++)
		free(ring[i]);
	free(ring);
	printf("leaked %lu bytes in %lu blocks\n", leaked_bytes, leaked);
	return 0;
}
