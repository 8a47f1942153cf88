/* analyzer/analyze/tracker.c - the allocation tracker's reports (heaptrack's core). */
#include "replay.h"
#include "tracker.h"
#include "units.h"

void sla_tracker_collect(struct sla_results *res, struct sla_state *st, struct sla_stackset *set)
{
	struct sla_block *b;
	double peak_s = (double)st->peak_time_ns / 1e9;

	for (size_t i = 0; (b = sla_state_next_block(st, &i));) {
		struct sla_stack_acc *a = sla_results_acc(res, sla_stackset_intern(set, st, b->stack));

		a->exit_bytes = sla_sat_add(a->exit_bytes, b->size);
		a->exit_blocks++;
		res->exit_bytes = sla_sat_add(res->exit_bytes, b->size);
		res->exit_blocks++;
	}
	for (uint32_t id = 0; id < st->nstacks; id++) {
		const struct sla_site *s = &st->sites[id];
		struct sla_stack_acc *a;
		uint64_t bytes, blocks;

		if (!s->allocs && !s->live_blocks && !s->peak_blocks)
			continue;
		a = sla_results_acc(res, sla_stackset_intern(set, st, id));
		sla_site_at_peak(st, id, &bytes, &blocks);
		a->peak_bytes = sla_sat_add(a->peak_bytes, bytes);
		a->peak_blocks += blocks;
		a->allocations += s->allocs;
		a->bytes = sla_sat_add(a->bytes, s->alloc_bytes);
		a->temporaries += s->temps;
	}
	if (st->peak_bytes > res->peak_log_max) {
		res->peak_log_max = st->peak_bytes;
		res->peak_time_s = peak_s;
	}
	res->peak_bytes = sla_sat_add(res->peak_bytes, st->peak_bytes);
	res->peak_blocks += st->peak_blocks;
	res->allocations += st->allocs;
	res->frees += st->frees;
	res->bytes_allocated = sla_sat_add(res->bytes_allocated, st->bytes_allocated);
	res->temporaries += st->temps;
}

void sla_tracker_unclassified(struct sla_results *res, struct sla_state *st,
			      struct sla_stackset *set)
{
	struct sla_block *b;

	for (size_t i = 0; (b = sla_state_next_block(st, &i));) {
		struct sla_stack_acc *a = sla_results_acc(res, sla_stackset_intern(set, st, b->stack));

		a->unclassified_bytes = sla_sat_add(a->unclassified_bytes, b->size);
		a->unclassified_blocks++;
		res->unclassified_bytes = sla_sat_add(res->unclassified_bytes, b->size);
		res->unclassified_blocks++;
	}
}
