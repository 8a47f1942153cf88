/*
 * analyzer/fuzz/one_input.h - runs one untrusted input through the analyzer.
 *
 * The one definition of "the analyzer survived this input", shared by the
 * libFuzzer harness (fuzz_log.c) and the always-run corrupt-input test
 * (test_bad_input.c): the bytes go through the reader over a memory buffer,
 * replay into a fresh state, a second, independent pass through
 * `sliceleak dump`'s printer, and the whole analysis with its reports. Whatever the bytes, the outcome must be a
 * clean one: a log read to its END, a log cut short (truncated), or an error
 * whose offset lies inside the input and whose message is not empty; both
 * passes must agree. Crashes, hangs and out-of-bounds reads are caught by
 * the sanitizers and the callers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How one input ended. */
struct fuzz_outcome {
	int err;	       /* 0, or the reader's/replay's negative error */
	bool header_ok;	       /* sla_reader_init_mem() accepted the header */
	uint64_t err_offset;   /* where the problem is, when err < 0 */
	char err_msg[160];     /* the reader's message, when err < 0 */
	uint64_t records;      /* records replayed */
	bool ended;	       /* END read */
	bool truncated;	       /* no END, or a cut record */
	uint64_t trunc_offset; /* where the incomplete tail starts, when truncated */
};

/* Also run the whole analysis (see FUZZ_ANALYSIS below). */
#define FUZZ_ANALYSIS 1u

/*
 * Runs data[0..size) through reader + replay + dump. With FUZZ_ANALYSIS in
 * `flags`, also through sla_analysis_run() over a memfd holding the bytes
 * (--at end, peak, a label, and --lenient) and both reports (text and JSON,
 * SLA_SYM_NONE) of every analysis that succeeds; the analysis must fail
 * exactly when the reader did, with "<path>: offset <n>: ..." naming the
 * same offset. Returns 0 when every invariant held (the outcome in *out), or
 * -1 after printing which one broke on stderr, prefixed with `what`.
 */
int fuzz_one_input(const uint8_t *data, size_t size, const char *what, unsigned flags,
		   struct fuzz_outcome *out);
