/*
 * analyzer/tests/check.h - the unit tests' assertion macros.
 *
 * CHECK() reports a failure and goes on, so one run shows every broken
 * expectation; the test's main() returns check_result(), which prints the
 * "N passed, N failed" line scripts/test.sh reads. A test that cannot run
 * here returns 77 (meson's SKIP) instead.
 */
#pragma once

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (cond) {                                                            \
			check_passed++;                                                \
		} else {                                                               \
			check_failed++;                                                \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                      \
	} while (0)

#define CHECK_EQ_U(a, b)                                                               \
	do {                                                                           \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
		if (a_ == b_) {                                                        \
			check_passed++;                                                \
		} else {                                                               \
			check_failed++;                                                \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%llu != %llu)\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);                   \
		}                                                                      \
	} while (0)

/* Fails a run in which no check ran: a test that checks nothing cannot pass. */
static inline int check_result(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	if (!check_passed && !check_failed)
		fprintf(stderr, "no check ran\n");
	return check_failed || !check_passed ? 1 : 0;
}
