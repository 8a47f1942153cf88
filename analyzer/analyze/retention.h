/*
 * analyzer/analyze/retention.h - which live blocks are kept alive by small views.
 *
 * The domain analysis of docs/design.md, section 2, as pure functions over one
 * log's state (nothing here prints):
 *   used bytes     = size of the union of the block's live view ranges,
 *                    clipped to the block (zero-length views add nothing but
 *                    still pin the block);
 *   retained bytes = size - used, for a view-pinned block (>= 1 live view);
 *   finding        = view-pinned blocks with size >= min_block_size and
 *                    used <= max_used_percent of the size, grouped by
 *                    (allocation stack, stack of the block's oldest live view);
 *   pinned for     = evaluation time - creation time of that oldest view;
 *                    a finding reports the longest of its blocks.
 *
 * The peak of retained bytes (--at peak) is found by a cheap running total:
 * with st->track_dirty set, replay marks the blocks whose views changed, and
 * sla_retention_flush() re-evaluates only those. analysis.c calls it at
 * sample points (see there for the precision).
 */
#pragma once

#include <stdint.h>

#include "results.h"
#include "stacks.h"
#include "state.h"

/* The union of a block's live view ranges, in bytes (clipped to the block). */
uint64_t sla_block_used(const struct sla_state *st, const struct sla_block *b);

/* How long, at log time eval_ns, the view `oldest` has been live, in seconds. */
static inline double sla_pinned_s(const struct sla_ref *oldest, uint64_t eval_ns)
{
	return eval_ns > oldest->time ? (double)(eval_ns - oldest->time) / 1e9 : 0.0;
}

/* Whether a block is a finding under `th`; *used gets its used bytes when it has views. */
bool sla_block_is_finding(const struct sla_state *st, const struct sla_block *b,
			  const struct sla_thresholds *th, uint64_t *used);

/*
 * Adds the findings of `st`, evaluated at log time `eval_ns`, to `res`
 * (merged by canonical stacks through `set`).
 */
void sla_retention_collect(struct sla_results *res, struct sla_state *st,
			   struct sla_stackset *set, const struct sla_thresholds *th,
			   uint64_t eval_ns);

/*
 * Re-evaluates the blocks marked dirty since the last call and returns the
 * current total of retained bytes of the blocks that are findings. *work
 * (if not NULL) gets the cost: dirty entries plus the views re-examined.
 */
uint64_t sla_retention_flush(struct sla_state *st, const struct sla_thresholds *th,
			     uint64_t *work);
