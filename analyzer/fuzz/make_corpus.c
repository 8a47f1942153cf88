/*
 * analyzer/fuzz/make_corpus.c - writes the seed logs into a directory.
 *
 *   make_corpus DIR     writes DIR/<seed>.sllog for every seed of seeds.c
 *
 * analyzer/fuzz/corpus/ in the repository is this program's output; rerun
 * it there after changing a seed (or the encoder) and commit the result.
 */
#include <stdio.h>

#include "seeds.h"

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus DIR\n");
		return 2;
	}
	for (size_t i = 0; i < fuzz_seed_count(); i++) {
		struct fuzz_seed s = fuzz_seed_build(i);
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.sllog", argv[1], s.name);
		f = fopen(path, "wb");
		if (!f || fwrite(s.data, 1, s.size, f) != s.size || fclose(f) != 0) {
			perror(path);
			rc = 1;
		} else {
			printf("%s: %zu bytes\n", path, s.size);
		}
		fuzz_seed_free(&s);
	}
	return rc;
}
