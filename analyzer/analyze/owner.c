/* analyzer/analyze/owner.c - big memory kept alive by small blocks (see owner.h). */
#include <stddef.h>
#include <stdlib.h>

#include "dominators.h"
#include "owner.h"
#include "retention.h"
#include "units.h"
#include "xalloc.h"

#define NONE SLA_HG_NONE

/* Private flags of this pass. */
enum {
	F_SKIP = SLA_HG_PRIVATE,       /* already counted by another finding */
	F_OWNER = SLA_HG_PRIVATE << 1, /* immediate dominator of a big countable block */
	F_REPORT = SLA_HG_PRIVATE << 2, /* an owner over the thresholds */
};

/* A retained block of a reported owner, for the grouping by stack. */
struct held {
	uint32_t owner, stack, block;
};

/* A reported owner: its group and the stack of most of its bytes. */
struct reported {
	uint32_t u, stack;
	struct sla_finding *f;
};

static int cmp_held(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return x->block < y->block ? -1 : x->block > y->block;
}

/*
 * The root's successors: rooted blocks, view-pinned blocks, and the
 * targets of the words inside live views.
 */
static uint32_t *roots_of(const struct sla_heapgraph *g, size_t *nroots)
{
	uint32_t *roots = NULL;
	size_t n = 0, cap = 0;

	for (uint32_t i = 0; i < g->n; i++) {
		if (!(g->flags[i] & (SLA_HG_ROOTED | SLA_HG_PINNED)))
			continue;
		if (n == cap)
			sla_xgrow(&roots, &cap, n + 1, sizeof(*roots));
		roots[n++] = i;
		if (!(g->flags[i] & SLA_HG_PINNED))
			continue;
		for (size_t e = g->first[i]; e < g->first[i + 1]; e++)
			if (g->pf[e] & SLA_HG_P_IN) {
				if (n == cap)
					sla_xgrow(&roots, &cap, n + 1, sizeof(*roots));
				roots[n++] = g->dst[e];
			}
	}
	*nroots = n;
	return roots;
}

static uint64_t size_of(const struct sla_state *st, uint32_t i)
{
	return sla_hg_block(st, i)->size;
}

/* Flags the blocks other findings count, and the owners. */
static void mark_owners(struct sla_heapgraph *g, const struct sla_state *st,
			const struct sla_domtree *t, const struct sla_thresholds *th)
{
	for (uint32_t i = 0; i < g->n; i++) {
		uint64_t used;

		if ((g->flags[i] & SLA_HG_KEPT) ||
		    ((g->flags[i] & SLA_HG_PINNED) && sla_block_is_finding(st, sla_hg_block(st, i), th, &used)))
			g->flags[i] |= F_SKIP;
	}
	for (uint32_t k = 1; k < t->nreach; k++) {
		uint32_t v = t->order[k], u = t->idom[v];

		if (u < g->n && !(g->flags[v] & F_SKIP) && size_of(st, v) >= th->min_block_size &&
		    size_of(st, u) <= th->max_owner_size)
			g->flags[u] |= F_OWNER;
	}
}

/*
 * near[v]: v's nearest strict ancestor in the dominator tree that is an
 * owner (NONE: none), in preorder, where a node's idom always came first.
 * Sums each owner's retained bytes; flags those over the thresholds.
 */
static uint32_t *nearest_owners(struct sla_heapgraph *g, const struct sla_state *st,
				const struct sla_domtree *t, const struct sla_thresholds *th,
				size_t *nheld)
{
	uint32_t *near = sla_xmalloc(((size_t)g->n + 1) * sizeof(*near));
	uint64_t *kept = sla_xcalloc((size_t)g->n + 1, sizeof(*kept));

	near[g->n] = NONE;
	for (uint32_t k = 1; k < t->nreach; k++) {
		uint32_t v = t->order[k], p = t->idom[v];

		near[v] = p < g->n && (g->flags[p] & F_OWNER) ? p : near[p];
		if (near[v] != NONE && !(g->flags[v] & (F_SKIP | F_OWNER)))
			kept[near[v]] = sla_sat_add(kept[near[v]], size_of(st, v));
	}
	for (uint32_t u = 0; u < g->n; u++)
		if ((g->flags[u] & F_OWNER) && kept[u] >= th->min_block_size &&
		    (double)kept[u] >= th->min_owner_ratio * (double)size_of(st, u))
			g->flags[u] |= F_REPORT;
	*nheld = 0;
	for (uint32_t k = 1; k < t->nreach; k++) {
		uint32_t v = t->order[k];

		if (v < g->n && near[v] != NONE && (g->flags[near[v]] & F_REPORT) &&
		    !(g->flags[v] & (F_SKIP | F_OWNER)))
			(*nheld)++;
	}
	free(kept);
	return near;
}

/*
 * Where the reported owners' words land in the blocks they hold directly:
 * the offsets of each reported owner's pairs (few owners, few pairs each).
 */
static void reference_offsets(const struct sla_heapgraph *g, const struct sla_state *st,
			      const struct sla_domtree *t, const struct reported *rep, size_t nrep)
{
	for (size_t r = 0; r < nrep; r++) {
		uint32_t u = rep[r].u;
		struct sla_finding *f = rep[r].f;

		for (size_t e = g->first[u]; e < g->first[u + 1]; e++) {
			uint32_t w = g->dst[e];
			uint64_t min, max;

			if (t->idom[w] != u || sla_hg_block(st, w)->stack != rep[r].stack ||
			    (g->flags[w] & (F_SKIP | F_OWNER)))
				continue;
			sla_heapgraph_offsets(g, e, &min, &max);
			if (min < f->ref_min)
				f->ref_min = min;
			if (max > f->ref_max)
				f->ref_max = max;
		}
	}
}

/* One reported owner into its group: `h` are its retained blocks, sorted by stack. */
static void add_owner(struct sla_results *res, struct sla_state *st,
		      struct sla_stackset *set, const struct held *h, size_t nh,
		      struct reported *r)
{
	uint32_t u = h[0].owner, best = h[0].stack;
	uint64_t best_bytes = 0, total = 0;
	struct sla_finding *f;

	for (size_t i = 0; i < nh;) { /* the stack of most bytes (the first of equals) */
		uint64_t bytes = 0;
		size_t j = i;

		for (; j < nh && h[j].stack == h[i].stack; j++)
			bytes = sla_sat_add(bytes, size_of(st, h[j].block));
		if (bytes > best_bytes) {
			best_bytes = bytes;
			best = h[i].stack;
		}
		total = sla_sat_add(total, bytes);
		i = j;
	}
	f = sla_results_owner_finding(res, sla_stackset_intern(set, st, best),
				      sla_stackset_intern(set, st, sla_hg_block(st, u)->stack));
	f->holder_blocks++;
	f->holder_bytes = sla_sat_add(f->holder_bytes, size_of(st, u));
	if (size_of(st, u) < f->owner_min_size)
		f->owner_min_size = size_of(st, u);
	if (size_of(st, u) > f->owner_max_size)
		f->owner_max_size = size_of(st, u);
	f->retained_bytes = sla_sat_add(f->retained_bytes, total);
	f->retained_blocks += nh;
	for (size_t i = 0; i < nh; i++) {
		uint64_t size = size_of(st, h[i].block);

		if (h[i].stack != best)
			continue;
		f->blocks++;
		f->block_bytes = sla_sat_add(f->block_bytes, size);
		if (size < f->min_size)
			f->min_size = size;
		if (size > f->max_size)
			f->max_size = size;
	}
	res->owned_bytes = sla_sat_add(res->owned_bytes, total);
	*r = (struct reported){ u, best, f };
}

void sla_owner_collect(struct sla_results *res, struct sla_heapgraph *g, struct sla_state *st,
		       struct sla_stackset *set, const struct sla_thresholds *th)
{
	struct sla_domtree t;
	struct sla_digraph d = {
		.n = g->n, .first = g->first, .targets = g->dst,
	};
	uint32_t *roots, *near;
	struct held *held;
	struct reported *rep;
	size_t nroots, nheld, k = 0, nrep = 0;

	for (uint32_t i = 0; i < g->n; i++) /* the previous pass's private bits */
		g->flags[i] &= SLA_HG_PRIVATE - 1;
	roots = roots_of(g, &nroots);
	d.roots = roots;
	d.nroots = nroots;
	sla_dominators(&d, &t);
	free(roots);
	mark_owners(g, st, &t, th);
	near = nearest_owners(g, st, &t, th, &nheld);
	held = sla_xmalloc((nheld + 1) * sizeof(*held));
	for (uint32_t i = 1; i < t.nreach; i++) {
		uint32_t v = t.order[i];

		if (v < g->n && near[v] != NONE && (g->flags[near[v]] & F_REPORT) &&
		    !(g->flags[v] & (F_SKIP | F_OWNER)))
			held[k++] = (struct held){ near[v], sla_hg_block(st, v)->stack, v };
	}
	free(near);
	qsort(held, nheld, sizeof(*held), cmp_held);
	for (uint32_t u = 0; u < g->n; u++)
		nrep += (g->flags[u] & F_REPORT) != 0;
	rep = sla_xmalloc((nrep + 1) * sizeof(*rep));
	nrep = 0;
	for (size_t i = 0; i < nheld;) { /* one owner at a time, in address order */
		size_t j = i;

		while (j < nheld && held[j].owner == held[i].owner)
			j++;
		add_owner(res, st, set, held + i, j - i, &rep[nrep++]);
		i = j;
	}
	if (nrep)
		reference_offsets(g, st, &t, rep, nrep);
	free(rep);
	free(held);
	sla_domtree_free(&t);
}
