/*
 * slice/tests/check.h - the smallest test harness that does the job.
 *
 * CHECK() records a failure and goes on, so one run shows every broken
 * expectation of a case; RUN() runs a case and counts it as passed when none
 * of its CHECKs failed. check_summary() prints the "N passed, N failed" line
 * this workplace's CI reads, and gives main() its exit status.
 */
#pragma once

#include <stdio.h>

struct check_state {
	int case_failures; /* CHECKs failed in the running case */
	int passed;	   /* cases without a failed CHECK */
	int failed;	   /* cases with at least one */
};

static struct check_state check_st;

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			check_st.case_failures++;                                           \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,   \
				#cond);                                                     \
		}                                                                           \
	} while (0)

#define RUN(fn)                                                                             \
	do {                                                                                \
		check_st.case_failures = 0;                                                 \
		fn();                                                                       \
		if (check_st.case_failures) {                                               \
			check_st.failed++;                                                  \
			printf("FAIL %s\n", #fn);                                           \
		} else {                                                                    \
			check_st.passed++;                                                  \
			printf("ok   %s\n", #fn);                                           \
		}                                                                           \
		fflush(stdout);                                                             \
	} while (0)

/* Prints the summary line; returns main()'s exit status. */
static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_st.passed, check_st.failed);
	return check_st.failed ? 1 : 0;
}
