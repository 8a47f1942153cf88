/*
 * analyzer/fuzz/fuzz_log.c - libFuzzer harness: any bytes as a .sllog.
 *
 * Built only with -Dfuzz=true and CC=clang (-fsanitize=fuzzer,address,
 * undefined, UBSan made fatal). The input goes through reader, replay, dump
 * and the whole analysis with its reports, exactly as in the corrupt-input
 * test (one_input.c); a broken invariant aborts, which libFuzzer reports as
 * a crash with its input.
 * Run it (see run_fuzz.sh, meson test --suite fuzz):
 *   fuzz_log -max_total_time=60 WORKDIR analyzer/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>

#include "one_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_outcome o;

	if (fuzz_one_input(data, size, "fuzz-input", FUZZ_ANALYSIS, &o) < 0)
		abort();
	return 0;
}
