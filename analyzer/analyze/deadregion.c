/* analyzer/analyze/deadregion.c - blocks kept alive through dead regions (see deadregion.h). */
#include <inttypes.h>
#include <stdlib.h>

#include <sliceleak/format.h>

#include "deadregion.h"
#include "retention.h"
#include "tracker.h"
#include "trace.h"
#include "xalloc.h"
#include "units.h"

#define NONE SLA_HG_NONE

/* Private flags of this pass (the graph's own: SLA_HG_PINNED, SLA_HG_KEPT). */
enum {
	F_REACH = SLA_HG_PRIVATE,	 /* reachable from the roots */
	F_HEAD = SLA_HG_PRIVATE << 1,	 /* holder: a keeping pointer lies before its last view's end */
	F_INDIRECT = SLA_HG_PRIVATE << 2, /* unreachable, and another unreachable block points to it */
};
#define F_PINNED SLA_HG_PINNED

struct dr {
	struct sla_heapgraph *g;
	const struct sla_state *st;
	uint32_t *owner; /* the holder a kept block belongs to, or NONE */
	uint32_t *queue;
	size_t qhead, qtail;
};

static void reach(struct dr *d, uint32_t i)
{
	if (d->g->flags[i] & F_REACH)
		return;
	d->g->flags[i] |= F_REACH;
	d->queue[d->qtail++] = i;
}

/*
 * Phase 1: the roots' targets and the targets of every view-pinned
 * block's live views, then what non-pinned reachable blocks' words reach.
 * A pinned block passes on only its views' words, queued here once.
 */
static void phase_reachable(struct dr *d)
{
	struct sla_heapgraph *g = d->g;

	for (uint32_t i = 0; i < g->n; i++)
		if (g->flags[i] & SLA_HG_ROOTED)
			reach(d, i);
	for (uint32_t i = 0; i < g->n; i++) {
		if (!(g->flags[i] & F_PINNED))
			continue;
		for (size_t e = g->first[i]; e < g->first[i + 1]; e++)
			if (g->pf[e] & SLA_HG_P_IN)
				reach(d, g->dst[e]);
	}
	while (d->qhead < d->qtail) {
		uint32_t t = d->queue[d->qhead++];

		if (g->flags[t] & F_PINNED)
			continue;
		for (size_t e = g->first[t]; e < g->first[t + 1]; e++)
			reach(d, g->dst[e]);
	}
}

/* A block neither reachable nor kept yet becomes holder h's. */
static bool keep(struct dr *d, uint32_t t, uint32_t h)
{
	if ((d->g->flags[t] & F_REACH) || d->owner[t] != NONE)
		return false;
	d->owner[t] = h;
	d->g->flags[t] |= SLA_HG_KEPT;
	d->queue[d->qtail++] = t;
	return true;
}

/*
 * Phase 2: a breadth-first search from every dead region at once. The first
 * level is the dead regions' direct targets, holders in address order; a
 * kept block passes its holder on to what it reaches (all its words; a
 * pinned one's live views are roots already, its dead region is a source
 * of its own). A holder is the head of its targets (F_HEAD) when a word
 * that keeps one of them lies before its last view's end: its first word
 * to that target, the first to keep it, does, which is whether any of them
 * does (SLA_HG_P_EARLY).
 */
static void phase_dead(struct dr *d)
{
	struct sla_heapgraph *g = d->g;

	d->qhead = d->qtail = 0;
	for (uint32_t h = 0; h < g->n; h++) {
		if (!(g->flags[h] & F_PINNED))
			continue;
		for (size_t e = g->first[h]; e < g->first[h + 1]; e++) {
			if (!(g->pf[e] & SLA_HG_P_OUT))
				continue;
			keep(d, g->dst[e], h);
			if ((g->pf[e] & SLA_HG_P_EARLY) && d->owner[g->dst[e]] == h)
				g->flags[h] |= F_HEAD;
		}
	}
	while (d->qhead < d->qtail) {
		uint32_t t = d->queue[d->qhead++];

		if (g->flags[t] & F_PINNED)
			continue;
		for (size_t e = g->first[t]; e < g->first[t + 1]; e++)
			keep(d, g->dst[e], d->owner[t]);
	}
}

/* One kept block's group and its holder, for counting holders once per group. */
struct kept {
	struct sla_finding *f;
	uint32_t h;
};

static int cmp_kept(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;

	if (x->f != y->f)
		return x->f < y->f ? -1 : 1;
	return x->h < y->h ? -1 : x->h > y->h;
}

/* The kept blocks into findings; each holder counted once per group. */
static void collect(struct dr *d, struct sla_results *res, struct sla_state *st,
		    struct sla_stackset *set, const struct sla_thresholds *th, uint64_t eval_ns)
{
	struct kept *kept = NULL;
	size_t nkept = 0, cap = 0;

	for (uint32_t t = 0; t < d->g->n; t++) {
		const struct sla_block *b = sla_hg_block(st, t), *hb;
		const struct sla_ref *oldest;
		enum sla_view_kind kind = SLA_VIEW_SLICE;
		struct sla_finding *f;
		uint64_t used = 0, retained;

		if (d->owner[t] == NONE)
			continue;
		hb = sla_hg_block(st, d->owner[t]);
		oldest = sla_block_oldest_ref(st, hb, &kind);
		f = sla_results_dead_finding(res, sla_stackset_intern(set, st, b->stack),
					     sla_stackset_intern(set, st, oldest->stack),
					     sla_stackset_intern(set, st, hb->stack));
		/* a kept block that is a view_pinned finding itself has its waste counted there */
		retained = sla_block_is_finding(st, b, th, &used) ? used : b->size;
		sla_finding_add_block(res, f, kind, b->size, 0, retained, sla_pinned_s(oldest, eval_ns));
		if (nkept == cap)
			sla_xgrow(&kept, &cap, nkept + 1, sizeof(*kept));
		kept[nkept++] = (struct kept){ f, d->owner[t] };
	}
	if (nkept)
		qsort(kept, nkept, sizeof(*kept), cmp_kept);
	for (size_t i = 0; i < nkept; i++) {
		const struct sla_block *hb = sla_hg_block(st, kept[i].h);
		struct sla_finding *f = kept[i].f;

		if (i && kept[i].f == kept[i - 1].f && kept[i].h == kept[i - 1].h)
			continue;
		f->holder_blocks++;
		f->holder_bytes = sla_sat_add(f->holder_bytes, hb->size);
		f->holder_used_bytes = sla_sat_add(f->holder_used_bytes, sla_block_used(st, hb));
		for (const struct sla_view *v = sla_block_views(st, hb); v; v = v->bnext)
			f->holder_views += v->count;
		if (d->g->flags[kept[i].h] & F_HEAD)
			f->holder_tail = false;
	}
	free(kept);
}

/*
 * LeakSanitizer's classes of the blocks neither reachable nor kept: an
 * indirect leak is pointed to by another such block, a direct one by none
 * (a cycle that nothing else points to is all indirect, as in LSan).
 */
static void classify_leaks(struct dr *d, struct sla_results *res, struct sla_state *st,
			   struct sla_stackset *set)
{
	struct sla_heapgraph *g = d->g;

	for (uint32_t s = 0; s < g->n; s++)
		if (!(g->flags[s] & F_REACH) && d->owner[s] == NONE)
			for (size_t e = g->first[s]; e < g->first[s + 1]; e++)
				g->flags[g->dst[e]] |= F_INDIRECT;
	for (uint32_t t = 0; t < g->n; t++) {
		const struct sla_block *b = sla_hg_block(st, t);
		struct sla_stack_acc *a;

		if ((g->flags[t] & F_REACH) || d->owner[t] != NONE)
			continue;
		a = sla_results_acc(res, sla_stackset_intern(set, st, b->stack));
		sla_tracker_leaked(res, a, st, b,
				   g->flags[t] & F_INDIRECT ? SLA_LEAK_INDIRECT : SLA_LEAK_DIRECT);
	}
	res->classified_logs++;
}

/* --trace-block: what the pointer scan says of the traced block. */
static void trace_reach(const struct dr *d, bool classified)
{
	const struct sla_heapgraph *g = d->g;

	for (uint32_t t = 0; t < g->n; t++) {
		const struct sla_block *b = sla_hg_block(d->st, t), *hb;

		if (!sla_traced(b->addr, b->size))
			continue;
		if (g->flags[t] & F_PINNED) {
			sla_trace(b->addr, "pointer scan: view-pinned, alive through its views");
		} else if (g->flags[t] & F_REACH) {
			sla_trace(b->addr, "pointer scan: reachable from a root");
		} else if (d->owner[t] != NONE) {
			hb = sla_hg_block(d->st, d->owner[t]);
			sla_trace(b->addr, "pointer scan: kept alive only through the dead region of the "
				  "view-pinned block 0x%" PRIx64 " (%" PRIu64 " bytes): a dead_region "
				  "finding", hb->addr, hb->size);
		} else {
			sla_trace(b->addr, "pointer scan: unreachable%s", !classified ? "" :
				  g->flags[t] & F_INDIRECT ? ", an indirect leak (only unreachable "
							     "blocks point to it)" :
							     ", a direct leak (nothing points to it)");
		}
	}
}

void sla_deadregion_collect(struct sla_results *res, struct sla_heapgraph *g,
			    struct sla_state *st, struct sla_stackset *set,
			    const struct sla_thresholds *th, uint64_t eval_ns, bool findings,
			    bool leaks)
{
	struct dr d = { .g = g, .st = st };

	d.owner = sla_xmalloc(((size_t)g->n + 1) * sizeof(*d.owner));
	d.queue = sla_xmalloc(((size_t)g->n + 1) * sizeof(*d.queue));
	for (uint32_t i = 0; i < g->n; i++)
		d.owner[i] = NONE;
	phase_reachable(&d);
	phase_dead(&d);
	if (findings)
		collect(&d, res, st, set, th, eval_ns);
	if (leaks)
		classify_leaks(&d, res, st, set);
	if (sla_trace_addr)
		trace_reach(&d, leaks);
	free(d.owner);
	free(d.queue);
}
