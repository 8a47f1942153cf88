/* analyzer/analyze/heapgraph.c - the live heap as a graph (see heapgraph.h). */
#include <stdlib.h>

#include <sliceleak/format.h>

#include "heapgraph.h"
#include "xalloc.h"

#define NONE SLA_HG_NONE

static int cmp_block(const void *a, const void *b)
{
	const struct sla_hg_block *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_edge(const void *a, const void *b)
{
	const struct sla_hg_edge *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->loc < y->loc ? -1 : x->loc > y->loc;
}

static int cmp_range(const void *a, const void *b)
{
	const struct sla_hg_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * The last block starting at or below x, by binary search, if it holds x.
 * Overlapping blocks (a corrupt log) give one of them.
 */
uint32_t sla_heapgraph_find(const struct sla_heapgraph *g, uint64_t x)
{
	uint32_t lo = 0, hi = g->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (g->blk[mid].lo <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NONE;
	lo--;
	if (x < g->blk[lo].hi || x == g->blk[lo].lo)
		return lo;
	return NONE;
}

void sla_heapgraph_view_ranges(struct sla_heapgraph *g, uint32_t i)
{
	const struct sla_block *b = g->blk[i].b;
	size_t n = 0, out = 0;

	sla_xgrow(&g->rg, &g->rg_cap, b->nviews ? b->nviews : 1, sizeof(*g->rg));
	for (const struct sla_view *v = b->views; v; v = v->bnext) {
		uint64_t lo = v->ptr, hi = v->ptr + v->len;

		if (hi < lo)
			hi = UINT64_MAX; /* a corrupt length: clipped below */
		if (lo < g->blk[i].lo)
			lo = g->blk[i].lo;
		if (hi > g->blk[i].hi)
			hi = g->blk[i].hi;
		if (lo < hi && n < g->rg_cap)
			g->rg[n++] = (struct sla_hg_range){ lo, hi };
	}
	qsort(g->rg, n, sizeof(*g->rg), cmp_range);
	for (size_t k = 0; k < n; k++) {
		if (out && g->rg[k].lo <= g->rg[out - 1].hi) {
			if (g->rg[k].hi > g->rg[out - 1].hi)
				g->rg[out - 1].hi = g->rg[k].hi;
		} else {
			g->rg[out++] = g->rg[k];
		}
	}
	g->nrg = out;
}

bool sla_heapgraph_in_view(const struct sla_heapgraph *g, size_t *k, uint64_t loc)
{
	uint64_t end = loc + 8 < loc ? UINT64_MAX : loc + 8;

	while (*k < g->nrg && g->rg[*k].hi <= loc)
		(*k)++;
	return *k < g->nrg && g->rg[*k].lo < end;
}

static void add_edge(struct sla_heapgraph *g, uint32_t src, uint64_t loc, uint32_t dst)
{
	if (g->nedges == g->edges_cap)
		sla_xgrow(&g->edges, &g->edges_cap, g->nedges + 1, sizeof(*g->edges));
	g->edges[g->nedges++] = (struct sla_hg_edge){ loc, src, dst };
}

bool sla_heapgraph_build(struct sla_heapgraph *g, struct sla_state *st)
{
	const struct sla_scan *sc = &st->scan;
	struct sla_block *b;
	uint32_t n = 0;

	*g = (struct sla_heapgraph){ .scan = sc };
	if (st->live_blocks >= NONE)
		return false; /* ids are 32-bit: not a heap any scan could cover anyway */
	g->blk = sla_xmalloc(((size_t)st->live_blocks + 1) * sizeof(*g->blk));
	for (size_t i = 0; (b = sla_state_next_block(st, &i)) && n < st->live_blocks;) {
		uint64_t hi = b->addr + b->size < b->addr ? UINT64_MAX : b->addr + b->size;

		g->blk[n++] = (struct sla_hg_block){ b->addr, hi, b };
	}
	g->n = n;
	qsort(g->blk, n, sizeof(*g->blk), cmp_block);
	g->flags = sla_xcalloc((size_t)n + 1, 1);
	g->first = sla_xcalloc((size_t)n + 2, sizeof(*g->first));
	for (uint32_t i = 0; i < n; i++)
		if (g->blk[i].b->nviews)
			g->flags[i] |= SLA_HG_PINNED;
	for (size_t r = 0; r < sc->nregions; r++) {
		const struct sla_scan_region *rg = &sc->regions[r];

		for (size_t k = rg->first; k < rg->first + rg->n; k++) {
			uint32_t dst = sla_heapgraph_find(g, sc->ptrs[k].val), src;

			if (dst == NONE)
				continue;
			src = sla_heapgraph_find(g, sc->ptrs[k].loc);
			if (src != NONE) {
				if (src != dst) /* a block pointing into itself changes nothing */
					add_edge(g, src, sc->ptrs[k].loc, dst);
			} else if (rg->kind != SLF_REGION_HEAP) {
				g->flags[dst] |= SLA_HG_ROOTED;
			}
		}
	}
	if (g->nedges)
		qsort(g->edges, g->nedges, sizeof(*g->edges), cmp_edge);
	/* counting sort's prefix sums: first[i] = edges of blocks before i */
	for (size_t e = 0; e < g->nedges; e++)
		g->first[g->edges[e].src + 1]++;
	for (uint32_t i = 0; i < n; i++)
		g->first[i + 1] += g->first[i];
	return true;
}

void sla_heapgraph_free(struct sla_heapgraph *g)
{
	free(g->blk);
	free(g->edges);
	free(g->first);
	free(g->flags);
	free(g->rg);
	*g = (struct sla_heapgraph){ 0 };
}
