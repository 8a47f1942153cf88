/*
 * scripts/bench/scan_heap.c - a heap for the exit scan's cost
 * (scripts/bench-owner.sh): MIB mebibytes in blocks of BLOCK bytes
 * (default 4 KiB), each word of which holds either the address of another
 * block (`pointers`: the worst case, every word a candidate pointer and a
 * graph edge) or a number that is no address (`data`). Exits with
 * everything live, so the exit scan reads all of it.
 *
 *   scan_heap pointers|data MIB [BLOCK]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 2 ? strtoull(argv[2], NULL, 10) : 100;
	size_t block = argc > 3 ? strtoull(argv[3], NULL, 10) : 4096;
	size_t n = block >= 8 ? (mib << 20) / block : 0;
	int pointers = argc > 1 && !strcmp(argv[1], "pointers");
	uint64_t **blocks = malloc(n * sizeof(*blocks));

	if (!blocks || argc < 3 || !n)
		return 2;
	for (size_t i = 0; i < n; i++)
		if (!(blocks[i] = malloc(block)))
			return 1;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < block / 8; k++)
			blocks[i][k] = pointers ? (uint64_t)(uintptr_t)blocks[(i * 7 + k * 13) % n] :
						  (uint64_t)(i * k) | 1;
	printf("%zu blocks\n", n);
	return 0;
}
