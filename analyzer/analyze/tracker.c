/* analyzer/analyze/tracker.c - the allocation tracker's reports (heaptrack's core). */
#include <math.h>

#include "replay.h"
#include "sampling.h"
#include "tracker.h"
#include "units.h"

void sla_tracker_collect(struct sla_results *res, struct sla_state *st, struct sla_stackset *set)
{
	struct sla_block *b;
	double peak_s = (double)st->peak_time_ns / 1e9;

	for (size_t i = 0; (b = sla_state_next_block(st, &i));) {
		struct sla_stack_acc *a = sla_results_acc(res, sla_stackset_intern(set, st, b->stack));

		uint64_t wbytes = sla_wbytes(st, b->size), wblocks = sla_wblocks(st, b->size);

		a->exit_bytes = sla_sat_add(a->exit_bytes, wbytes);
		a->exit_blocks += wblocks;
		res->exit_bytes = sla_sat_add(res->exit_bytes, wbytes);
		res->exit_blocks += wblocks;
		if (sla_exact(st, b->size)) {
			a->exact_exit_bytes = sla_sat_add(a->exact_exit_bytes, b->size);
			res->exact_exit_bytes = sla_sat_add(res->exact_exit_bytes, b->size);
		} else {
			res->exit_var += sla_wvar(st, b->size);
		}
	}
	res->sampled |= sla_sampled(st);
	res->peak_var += st->peak_var;
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

	for (size_t i = 0; (b = sla_state_next_block(st, &i));)
		sla_tracker_leaked(res, sla_results_acc(res, sla_stackset_intern(set, st, b->stack)),
				   st, b, SLA_LEAK_UNCLASSIFIED);
}

void sla_tracker_leaked(struct sla_results *res, struct sla_stack_acc *a,
			const struct sla_state *st, const struct sla_block *b, enum sla_leak_class c)
{
	uint64_t wbytes = sla_wbytes(st, b->size), wblocks = sla_wblocks(st, b->size);
	uint64_t *bytes[2], *blocks[2]; /* a's and res's */

	switch (c) {
	case SLA_LEAK_DIRECT:
		bytes[0] = &a->direct_bytes, blocks[0] = &a->direct_blocks;
		bytes[1] = &res->direct_bytes, blocks[1] = &res->direct_blocks;
		break;
	case SLA_LEAK_INDIRECT:
		bytes[0] = &a->indirect_bytes, blocks[0] = &a->indirect_blocks;
		bytes[1] = &res->indirect_bytes, blocks[1] = &res->indirect_blocks;
		break;
	case SLA_LEAK_UNCLASSIFIED:
	default:
		bytes[0] = &a->unclassified_bytes, blocks[0] = &a->unclassified_blocks;
		bytes[1] = &res->unclassified_bytes, blocks[1] = &res->unclassified_blocks;
		break;
	}
	for (int i = 0; i < 2; i++) {
		*bytes[i] = sla_sat_add(*bytes[i], wbytes);
		*blocks[i] += wblocks;
	}
	if (sla_exact(st, b->size)) {
		a->exact_leaked_bytes = sla_sat_add(a->exact_leaked_bytes, b->size);
		a->exact_leaked_blocks++;
		res->exact_leak_bytes = sla_sat_add(res->exact_leak_bytes, b->size);
		res->exact_leak_blocks++;
	} else {
		a->leaked_var += sla_wvar(st, b->size);
		res->leak_var += sla_wvar(st, b->size);
	}
}
