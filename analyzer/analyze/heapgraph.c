/* analyzer/analyze/heapgraph.c - the live heap as a graph (see heapgraph.h). */
#include <stdlib.h>
#include <string.h>

#include <sliceleak/format.h>

#include "heapgraph.h"
#include "sampling.h"
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

	uint32_t nviews = sla_block_nviews(g->st, b);

	sla_xgrow(&g->rg, &g->rg_cap, nviews ? nviews : 1, sizeof(*g->rg));
	g->nrg = sla_block_view_ranges(g->st, b, g->rg, g->rg_cap);
}

bool sla_heapgraph_in_view(const struct sla_heapgraph *g, size_t *k, uint64_t loc)
{
	uint64_t end = loc + 8 < loc ? UINT64_MAX : loc + 8;

	while (*k < g->nrg && g->rg[*k].hi <= loc)
		(*k)++;
	return *k < g->nrg && g->rg[*k].lo < end;
}

/* Whether a GLOBALS region is the C library's own writable segment. */
static bool libc_region(struct sla_state *st, const struct sla_scan_region *rg)
{
	const struct sla_mod *m = sla_state_find_module(st, st->gen, rg->start);
	const char *base;

	if (!m || !m->path)
		return false;
	base = strrchr(m->path, '/');
	base = base ? base + 1 : m->path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5);
}

/*
 * glibc's arenas other than the main one (threads') live in heaps of
 * HEAP_MAX_SIZE (64 MiB on 64-bit) reserved at an address aligned to it,
 * the arena's state at the start of its first heap: nothing else can be
 * mapped in such a window. A block below the default mmap threshold that
 * lies in anonymous memory is in one; the window's words outside blocks
 * are the allocator's (its state, chunk headers, freed chunks), like the
 * brk heap's.
 */
#define ARENA_HEAP_SHIFT 26
#define MMAP_THRESHOLD (128u * 1024)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_region_start(const void *a, const void *b)
{
	const struct sla_scan_region *x = *(const struct sla_scan_region *const *)a;
	const struct sla_scan_region *y = *(const struct sla_scan_region *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The sorted windows (address >> ARENA_HEAP_SHIFT) of thread arenas' heaps. */
static size_t arena_windows(const struct sla_heapgraph *g, const struct sla_scan *sc,
			    uint64_t **out)
{
	const struct sla_scan_region **anon = sla_xmalloc((sc->nregions + 1) * sizeof(*anon));
	uint64_t *w = sla_xmalloc(((size_t)g->n + 1) * sizeof(*w));
	size_t nanon = 0, nw = 0, k = 0;

	for (size_t r = 0; r < sc->nregions; r++)
		if (sc->regions[r].kind == SLF_REGION_ANON)
			anon[nanon++] = &sc->regions[r];
	qsort(anon, nanon, sizeof(*anon), cmp_region_start);
	for (uint32_t i = 0; i < g->n && nanon; i++) { /* blocks in address order: a sweep */
		uint64_t lo = g->blk[i].lo;

		while (k < nanon && anon[k]->start + anon[k]->size <= lo)
			k++;
		if (k < nanon && anon[k]->start <= lo && g->blk[i].hi - lo < MMAP_THRESHOLD &&
		    (!nw || w[nw - 1] != lo >> ARENA_HEAP_SHIFT))
			w[nw++] = lo >> ARENA_HEAP_SHIFT;
	}
	qsort(w, nw, sizeof(*w), cmp_u64);
	free(anon);
	*out = w;
	return nw;
}

static bool in_windows(const uint64_t *w, size_t n, uint64_t loc)
{
	uint64_t key = loc >> ARENA_HEAP_SHIFT;

	return n && bsearch(&key, w, n, sizeof(*w), cmp_u64);
}

static void add_edge(struct sla_heapgraph *g, uint32_t src, uint64_t loc, uint32_t dst)
{
	if (g->nedges == g->edges_cap)
		sla_xgrow(&g->edges, &g->edges_cap, g->nedges + 1, sizeof(*g->edges));
	g->edges[g->nedges++] = (struct sla_hg_edge){ loc, src, dst };
}

/*
 * The C library's writable segment holds the allocator's own state
 * (main_arena: its top chunk's and its bins' chunk headers, which lie in
 * the last 8 bytes of the block before them when that block uses its
 * whole chunk): there only a word pointing at a block's first byte is a
 * root (stdio's buffer bases, environ, NSS's tables all do). The heaps of
 * threads' arenas hold no roots at all (arena_windows()).
 *
 * A sampled log knows only some of the live blocks (and a log whose recording
 * started late none from before the start): a word of heap memory
 * (the brk heap, threads' arena heaps) outside every recorded block may lie
 * in a live block the sampler passed over, which may be reachable. Such a
 * word is a root there for the block whose first byte it points to, so a
 * block is not called leaked because the path to it runs through memory
 * the log cannot see. Interior pointers from there do not count: freed
 * chunks keep stale allocator links, which point to chunk headers (glibc
 * mangles its tcache and fastbin links besides) and, taken as roots, hid
 * a third of the leaks of sample_leak.c. So a block referenced only by an
 * interior pointer held in an unsampled block counts as leaked.
 */
bool sla_heapgraph_build(struct sla_heapgraph *g, struct sla_state *st)
{
	const struct sla_scan *sc = &st->scan;
	struct sla_block *b;
	uint64_t *win;
	size_t nwin;
	uint32_t n = 0;
	bool partial = sla_heap_partial(st);
	size_t nblocks = st->nlive; /* st->live_blocks is an estimate in a sampled log */

	*g = (struct sla_heapgraph){ .scan = sc, .st = st };
	if (nblocks >= NONE)
		return false; /* ids are 32-bit: not a heap any scan could cover anyway */
	g->blk = sla_xmalloc((nblocks + 1) * sizeof(*g->blk));
	for (size_t i = 0; (b = sla_state_next_block(st, &i)) && n < nblocks;) {
		uint64_t hi = b->addr + b->size < b->addr ? UINT64_MAX : b->addr + b->size;

		g->blk[n++] = (struct sla_hg_block){ b->addr, hi, b };
	}
	g->n = n;
	qsort(g->blk, n, sizeof(*g->blk), cmp_block);
	g->flags = sla_xcalloc((size_t)n + 1, 1);
	g->first = sla_xcalloc((size_t)n + 2, sizeof(*g->first));
	/*
	 * A sampled log's findings are made of exactly recorded blocks: a
	 * sampled view-pinned block is a root (its views keep it), never the
	 * holder of a dead region.
	 */
	for (uint32_t i = 0; i < n; i++)
		if (sla_block_nviews(st, g->blk[i].b))
			g->flags[i] |= sla_exact(st, g->blk[i].b->size) ? SLA_HG_PINNED : SLA_HG_ROOTED;
	nwin = arena_windows(g, sc, &win);
	for (size_t r = 0; r < sc->nregions; r++) {
		const struct sla_scan_region *rg = &sc->regions[r];
		bool starts_only = rg->kind == SLF_REGION_GLOBALS && rg->n && libc_region(st, rg);
		bool arena = rg->kind == SLF_REGION_ANON && nwin;

		for (size_t k = rg->first; k < rg->first + rg->n; k++) {
			uint32_t dst = sla_heapgraph_find(g, sc->ptrs[k].val), src;

			if (dst == NONE)
				continue;
			src = sla_heapgraph_find(g, sc->ptrs[k].loc);
			if (src != NONE) {
				if (src != dst) /* a block pointing into itself changes nothing */
					add_edge(g, src, sc->ptrs[k].loc, dst);
			} else if (rg->kind != SLF_REGION_HEAP &&
				   !(arena && in_windows(win, nwin, sc->ptrs[k].loc)) ?
					   !starts_only || sc->ptrs[k].val == g->blk[dst].lo :
					   partial && sc->ptrs[k].val == g->blk[dst].lo) {
				g->flags[dst] |= SLA_HG_ROOTED;
			}
		}
	}
	free(win);
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
