/*
 * analyzer/fuzz/seeds.h - small valid logs: the fuzz seed corpus and the
 * starting points of the corrupt-input test.
 *
 * Each seed is built in memory with the tests' encoder (tests/logbuf.h, on
 * format.h's put functions) and exercises a different part of the format:
 * every record kind, slice and annotation views, module map changes, thread
 * and time context, anomalies, a log cut short, a newer minor version with a
 * record kind this reader does not know, the pointer scan of format 1.1,
 * and format 2.0's per-thread chunks (whole and cut short).
 * All are deterministic and small
 * (a few hundred bytes to a few KiB), so that the committed corpus stays far
 * below 100 KiB and a mutation touches something interesting.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One seed log. */
struct fuzz_seed {
	const char *name; /* file name stem in corpus/ */
	uint8_t *data;	  /* malloc'd; free with fuzz_seed_free() */
	size_t size;
	bool ended;	  /* a reader must see END (else: truncated) */
};

/* Number of seeds. */
size_t fuzz_seed_count(void);

/* Builds seed i (< fuzz_seed_count()). Aborts on out of memory. */
struct fuzz_seed fuzz_seed_build(size_t i);

void fuzz_seed_free(struct fuzz_seed *s);
