/*
 * analyzer/analyze/tracker.h - the allocation tracker's reports (heaptrack's core).
 *
 *   leaks      blocks live at the end of the log (with END), or at its
 *              truncation point, grouped by allocation stack (which of
 *              them are leaked, unreachable, is deadregion.c's judgement);
 *   peak       the highest live heap (bytes, blocks, time) and the
 *              allocation stacks holding it at that moment;
 *   hot spots  allocation count and bytes per allocation stack, with the
 *              temporaries among them (heaptrack's definition: freed with no
 *              other allocation in between);
 *   totals     allocations (ALLOC + REALLOC), frees (FREE of a live block +
 *              REALLOC of a live block), bytes allocated, temporaries.
 * Pure: reads a state replayed to the end, adds to the results, prints nothing.
 */
#pragma once

#include "results.h"
#include "stacks.h"
#include "state.h"

void sla_tracker_collect(struct sla_results *res, struct sla_state *st, struct sla_stackset *set);

/*
 * A log whose leaks cannot be classified (no complete pointer scan at its
 * end): every block live at its end counts as leaked, unclassified.
 */
void sla_tracker_unclassified(struct sla_results *res, struct sla_state *st,
			      struct sla_stackset *set);

enum sla_leak_class { SLA_LEAK_DIRECT, SLA_LEAK_INDIRECT, SLA_LEAK_UNCLASSIFIED };

/*
 * Counts block b of st as leaked, of class c, into its stack's a and res:
 * weighted in a sampled log (replay/sampling.h), with the exactly recorded
 * part and the variance apart.
 */
void sla_tracker_leaked(struct sla_results *res, struct sla_stack_acc *a,
			const struct sla_state *st, const struct sla_block *b, enum sla_leak_class c);
