/* analyzer/analyze/retention.c - which live blocks are kept alive by small views. */
#include <inttypes.h>
#include <stdlib.h>

#include "retention.h"
#include "sampling.h"
#include "trace.h"
#include "xalloc.h"
#include "units.h"

/* Most blocks have one or two views: those avoid the heap. */
uint64_t sla_block_used(const struct sla_state *st, const struct sla_block *b)
{
	struct sla_range small[8], *r = small;
	size_t max = sizeof(small) / sizeof(small[0]), n;
	uint64_t used = 0;

	if (sla_block_nviews(st, b) > max) {
		max = sla_block_nviews(st, b);
		r = sla_xmalloc(max * sizeof(*r));
	}
	n = sla_block_view_ranges(st, b, r, max);
	for (size_t i = 0; i < n; i++)
		used += r[i].hi - r[i].lo;
	sla_assert(used <= b->size); /* disjoint ranges inside the block */
	if (r != small)
		free(r);
	return used;
}

bool sla_block_is_finding(const struct sla_state *st, const struct sla_block *b,
			  const struct sla_thresholds *th, uint64_t *used)
{
	uint64_t u;

	if (!sla_block_nviews(st, b))
		return false;
	u = sla_block_used(st, b);
	if (used)
		*used = u;
	if (b->size < th->min_block_size || b->size == 0)
		return false;
	return (double)u * 100.0 <= th->max_used_percent * (double)b->size;
}

/* --trace-block: the traced block's views at the evaluation point, and the verdict. */
static void trace_verdict(const struct sla_state *st, const struct sla_block *b,
			  const struct sla_thresholds *th)
{
	uint32_t nviews = sla_block_nviews(st, b);
	uint64_t used;

	if (!nviews) {
		sla_trace(b->addr, "live at the evaluation point, no live view: not view-pinned");
		return;
	}
	used = sla_block_used(st, b);
	if (b->size < th->min_block_size || b->size == 0)
		sla_trace(b->addr, "%u live views use %" PRIu64 " of %" PRIu64 " bytes: no finding, "
			  "smaller than --min-block-size %" PRIu64, nviews, used, b->size,
			  th->min_block_size);
	else if (!sla_block_is_finding(st, b, th, NULL))
		sla_trace(b->addr, "%u live views use %" PRIu64 " of %" PRIu64 " bytes (%.1f%%): no "
			  "finding, above --max-used-percent %.1f", nviews, used, b->size,
			  100.0 * (double)used / (double)b->size, th->max_used_percent);
	else
		sla_trace(b->addr, "%u live views use %" PRIu64 " of %" PRIu64 " bytes (%.1f%%, at "
			  "most %.1f%%): a view_pinned finding, %" PRIu64 " bytes retained", nviews,
			  used, b->size, 100.0 * (double)used / (double)b->size, th->max_used_percent,
			  b->size - used);
}

void sla_retention_collect(struct sla_results *res, struct sla_state *st,
			   struct sla_stackset *set, const struct sla_thresholds *th,
			   uint64_t eval_ns)
{
	struct sla_block *b;

	for (size_t i = 0; (b = sla_state_next_block(st, &i));) {
		const struct sla_ref *oldest;
		enum sla_view_kind kind = SLA_VIEW_SLICE;
		struct sla_finding *f;
		uint64_t used = 0;
		struct sla_stack_acc *a = sla_results_acc(res, sla_stackset_intern(set, st, b->stack));

		a->live_bytes += sla_wbytes(st, b->size);
		a->live_blocks += sla_wblocks(st, b->size);
		res->live_bytes += sla_wbytes(st, b->size);
		res->live_blocks += sla_wblocks(st, b->size);
		if (!sla_exact(st, b->size))
			res->live_var += sla_wvar(st, b->size);
		if (sla_traced(b->addr, b->size))
			trace_verdict(st, b, th);
		if (!sla_block_nviews(st, b))
			continue;
		res->pinned_blocks++;
		if (!sla_block_is_finding(st, b, th, &used))
			continue;
		oldest = sla_block_oldest_ref(st, b, &kind);
		f = sla_results_finding(res, sla_stackset_intern(set, st, b->stack),
					sla_stackset_intern(set, st, oldest->stack));
		for (const struct sla_view *v = sla_block_views(st, b); v; v = v->bnext)
			f->views += v->count;
		sla_finding_add_block(res, f, kind, b->size, used, b->size - used,
				      sla_pinned_s(oldest, eval_ns));
	}
}

/* Only the dirty blocks are re-evaluated: the peak scan costs O(changes). */
uint64_t sla_retention_flush(struct sla_state *st, const struct sla_thresholds *th,
			     uint64_t *work)
{
	if (work)
		*work = st->ndirty;
	for (size_t i = 0; i < st->ndirty; i++) {
		/* the block may be gone (its counted bytes left with it) or be a new one */
		struct sla_block *b = sla_state_find_block(st, st->dirty[i]);
		struct sla_bviews *bv = b ? sla_block_bv(st, b) : NULL;
		uint64_t used = 0, now = 0;

		if (!bv || !bv->dirty)
			continue;
		if (work)
			*work += bv->nviews;
		bv->dirty = false;
		if (sla_block_is_finding(st, b, th, &used))
			now = b->size - used;
		st->retained_total += now - bv->counted;
		bv->counted = now;
		sla_state_release_views(st, b);
	}
	st->ndirty = 0;
	return st->retained_total;
}
