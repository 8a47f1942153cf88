/*
 * analyzer/replay/sampling.h - what a recorded block stands for in a sampled log.
 *
 * A log with sample_bytes > 0 (PROCESS, format.h 3.0) holds every block of
 * at least exact_bytes and each smaller block with probability
 * p = 1 - exp(-size / sample_bytes), independently. Horvitz-Thompson: a
 * recorded block counts size / p bytes and 1 / p blocks, so sums over
 * recorded blocks are unbiased estimates of the sums over all blocks, with
 * variance sum of size^2 (1 - p) / p^2 (bytes). Exactly recorded blocks
 * (p = 1) count what they are: no scaling, no variance. The weight is a
 * function of the size and the log's parameters: nothing per block.
 * Weighted figures are rounded to whole bytes and blocks per block (the
 * same value is added at allocation and taken at the free).
 */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <sliceleak/format.h>

#include "state.h"

/* Whether st's log is sampled. */
static inline bool sla_sampled(const struct sla_state *st)
{
	return st->sample_bytes != 0;
}

/*
 * Whether live blocks may be missing from the log: a sampled log, or one
 * whose recording started after the process did (start=signal).
 */
static inline bool sla_heap_partial(const struct sla_state *st)
{
	return sla_sampled(st) || (st->process_flags & SLF_PROCESS_LATE_START);
}

/* Whether a block of `size` bytes is recorded with certainty (weight 1). */
static inline bool sla_exact(const struct sla_state *st, uint64_t size)
{
	return !st->sample_bytes || size >= st->exact_bytes || size == 0;
}

/* The probability that a block of `size` bytes is in the log. */
static inline double sla_sample_p(const struct sla_state *st, uint64_t size)
{
	return sla_exact(st, size) ? 1.0 : -expm1(-(double)size / (double)st->sample_bytes);
}

/* The bytes a block of `size` stands for. */
static inline uint64_t sla_wbytes(const struct sla_state *st, uint64_t size)
{
	return sla_exact(st, size) ? size : (uint64_t)llround((double)size / sla_sample_p(st, size));
}

/* The blocks it stands for. */
static inline uint64_t sla_wblocks(const struct sla_state *st, uint64_t size)
{
	return sla_exact(st, size) ? 1 : (uint64_t)llround(1.0 / sla_sample_p(st, size));
}

/* Its share of the variance of a bytes estimate: size^2 (1 - p) / p^2. */
static inline double sla_wvar(const struct sla_state *st, uint64_t size)
{
	double p = sla_sample_p(st, size), s = (double)size;

	return s * s * (1 - p) / (p * p);
}
