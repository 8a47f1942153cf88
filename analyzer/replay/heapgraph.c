/* analyzer/replay/heapgraph.c - the live heap as a graph, built word by word (see heapgraph.h). */
#include <stdlib.h>
#include <string.h>

#include <sliceleak/format.h>

#include "heapgraph.h"
#include "sampling.h"
#include "xalloc.h"

#define NONE SLA_HG_NONE

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

/*
 * The offsets a pair's words point at in its target: a pair's one offset
 * is g->voff[p] (an array made at the first word that points past a
 * block's first byte: none in a heap of pointers to starts); a pair whose
 * words point at different offsets, or past 4 GiB, has SLA_HG_P_OFFS and
 * its smallest and largest here.
 */
struct sla_hg_offs {
	uint64_t min, max;
	uint32_t pair; /* + 1; 0: empty slot */
};

/* A root word of an ANON region in a window that may yet turn out an arena's heap. */
struct pending {
	uint32_t dst, win; /* win: index in b->win */
};

/* One source's run of pairs in the order the words came (only once they came out of order). */
struct run {
	uint32_t src, start, n;
};

/* The current source's pair with a target: a slot of the source's table. */
struct seen {
	uint32_t dst; /* + 1; 0: empty */
	uint32_t pair;
};

struct sla_hg_build {
	/* the current source's pairs by target (open addressing, at most half full) */
	struct seen *seen;
	size_t seen_mask;
	size_t run_start;	/* the current source's first pair */
	bool partial;		/* live blocks may be missing: sampled, or a late start (sampling.h) */
	/* the region being read */
	unsigned kind;
	bool starts_only;	/* the C library's segment: only pointers to a block's start */
	/* the windows of small blocks (candidate arena heaps), sorted, and which are arenas */
	uint64_t *win;
	bool *arena;
	size_t nwin;
	struct pending *pend;
	size_t npend, pend_cap;
	/* the source of the previous word, its live views (when pinned) */
	uint32_t src, last_src;
	struct sla_range *rg;
	size_t nrg, rg_cap;
	uint64_t view_end;
	/* sources out of address order: runs, regrouped at the end */
	bool unordered;
	struct run *runs;
	size_t nruns, runs_cap;
	size_t dst_cap;
};

static inline uint64_t lo_of(const struct sla_state *st, uint32_t i)
{
	return sla_hg_block(st, i)->addr;
}

/* Whether node i holds x (a zero-size block holds its own address). */
static inline bool holds(const struct sla_state *st, uint32_t i, uint64_t x)
{
	const struct sla_block *b = sla_hg_block(st, i);

	return x == b->addr || (x > b->addr && x - b->addr < b->size);
}

/* Whether node i is the last one starting at or below x, and holds x: find()'s answer. */
static inline bool found_at(const struct sla_state *st, uint32_t n, uint32_t i, uint64_t x)
{
	return holds(st, i, x) && (i + 1 == n || lo_of(st, i + 1) > x);
}

/* The number of nodes starting at or below x. */
static uint32_t count_at_or_below(const struct sla_state *st, uint32_t n, uint64_t x)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (lo_of(st, mid) <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The last node starting at or below x, if it holds x. Overlapping blocks
 * (a corrupt log) give one of them.
 */
static uint32_t find(const struct sla_state *st, uint32_t n, uint64_t x)
{
	uint32_t k = count_at_or_below(st, n, x);

	return k && holds(st, k - 1, x) ? k - 1 : NONE;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t find_window(const struct sla_hg_build *b, uint64_t w)
{
	const uint64_t *p = b->nwin ? bsearch(&w, b->win, b->nwin, sizeof(*b->win), cmp_u64) : NULL;

	return p ? (size_t)(p - b->win) : SIZE_MAX;
}

void sla_heapgraph_begin(struct sla_state *st)
{
	struct sla_heapgraph *g;
	struct sla_hg_build *b;

	sla_heapgraph_drop(st);
	if (st->nlive >= NONE)
		return; /* ids are 32-bit: not a heap any scan could cover anyway */
	sla_state_sort_blocks(st);
	g = st->graph = sla_xcalloc(1, sizeof(*g));
	b = g->b = sla_xcalloc(1, sizeof(*b));
	g->n = st->nlive;
	g->flags = sla_xcalloc((size_t)g->n + 1, 1);
	g->first = sla_xcalloc((size_t)g->n + 2, sizeof(*g->first));
	b->seen = sla_xcalloc(16, sizeof(*b->seen));
	b->seen_mask = 15;
	b->src = b->last_src = NONE;
	b->partial = sla_heap_partial(st);
	b->win = sla_xmalloc(((size_t)g->n + 1) * sizeof(*b->win));
	for (uint32_t i = 0; i < g->n; i++) {
		const struct sla_block *blk = sla_hg_block(st, i);

		/*
		 * A sampled log's findings are made of exactly recorded blocks: a
		 * sampled view-pinned block is a root (its views keep it), never
		 * the holder of a dead region.
		 */
		if (sla_block_nviews(st, blk))
			g->flags[i] |= sla_exact(st, blk->size) ? SLA_HG_PINNED : SLA_HG_ROOTED;
		/* blocks in address order: the windows come sorted */
		if (blk->size < MMAP_THRESHOLD &&
		    (!b->nwin || b->win[b->nwin - 1] != blk->addr >> ARENA_HEAP_SHIFT))
			b->win[b->nwin++] = blk->addr >> ARENA_HEAP_SHIFT;
	}
	b->win = sla_xrealloc(b->win, (b->nwin + 1) * sizeof(*b->win));
	b->arena = sla_xcalloc(b->nwin + 1, sizeof(*b->arena));
}

/* Whether a GLOBALS region is the C library's own writable segment. */
static bool libc_region(struct sla_state *st, uint64_t start)
{
	const struct sla_mod *m = sla_state_find_module(st, st->gen, start);
	const char *base;

	if (!m || !m->path)
		return false;
	base = strrchr(m->path, '/');
	base = base ? base + 1 : m->path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5);
}

void sla_heapgraph_region(struct sla_state *st, unsigned kind, uint64_t start, uint64_t size)
{
	struct sla_heapgraph *g = st->graph;
	struct sla_hg_build *b = g ? g->b : NULL;

	if (!b)
		return;
	b->kind = kind;
	b->starts_only = kind == SLF_REGION_GLOBALS && libc_region(st, start);
	if (kind != SLF_REGION_ANON)
		return;
	/* a small block starting in anonymous memory: its window is a thread arena's heap */
	for (uint32_t i = start ? count_at_or_below(st, g->n, start - 1) : 0; i < g->n; i++) {
		const struct sla_block *blk = sla_hg_block(st, i);
		size_t w;

		if (blk->addr - start >= size)
			break;
		if (blk->size < MMAP_THRESHOLD && (w = find_window(b, blk->addr >> ARENA_HEAP_SHIFT)) != SIZE_MAX)
			b->arena[w] = true;
	}
}

/* Pair p's slot in a table of offsets (its own, or the empty one where it goes). */
static struct sla_hg_offs *offs_in(struct sla_hg_offs *tab, size_t mask, uint32_t p)
{
	size_t i = (size_t)(p * 0x9e3779b97f4a7c15ull >> 7) & mask;

	while (tab[i].pair && tab[i].pair != p + 1)
		i = (i + 1) & mask;
	return &tab[i];
}

static struct sla_hg_offs *offs_slot(const struct sla_heapgraph *g, uint32_t p)
{
	return offs_in(g->offs, g->offs_mask, p);
}

static void offs_grow(struct sla_heapgraph *g)
{
	struct sla_hg_offs *old = g->offs;
	size_t n = old ? (g->offs_mask + 1) * 2 : 64, old_n = old ? g->offs_mask + 1 : 0;

	g->offs = sla_xcalloc(n, sizeof(*g->offs));
	g->offs_mask = n - 1;
	for (size_t j = 0; j < old_n; j++)
		if (old[j].pair)
			*offs_slot(g, old[j].pair - 1) = old[j];
	free(old);
}

/* Pair p gets an entry of its own, offsets min and max. */
static void offs_add(struct sla_heapgraph *g, uint32_t p, uint64_t min, uint64_t max)
{
	if ((g->noffs + 1) * 2 > (g->offs ? g->offs_mask + 1 : 0))
		offs_grow(g);
	*offs_slot(g, p) = (struct sla_hg_offs){ min, max, p + 1 };
	g->noffs++;
	g->pf[p] |= SLA_HG_P_OFFS;
}

/* Pair p's one offset so far (when it has no entry of its own). */
static inline uint64_t voff_of(const struct sla_heapgraph *g, size_t p)
{
	return g->voff ? g->voff[p] : 0;
}

/* Pair p's words point at offset off of its target too (the first of them: first_word). */
static void add_offset(struct sla_heapgraph *g, uint32_t p, uint64_t off, bool first_word)
{
	struct sla_hg_offs *o;
	uint64_t cur;

	if (g->pf[p] & SLA_HG_P_OFFS) {
		o = offs_slot(g, p);
		if (off < o->min)
			o->min = off;
		if (off > o->max)
			o->max = off;
		return;
	}
	cur = first_word ? off : voff_of(g, p);
	if (off != cur || off >= UINT32_MAX) {
		offs_add(g, p, cur < off ? cur : off, cur > off ? cur : off);
		return;
	}
	if (!off)
		return; /* voff[p] is 0 already, or there is no voff */
	if (!g->voff)
		g->voff = sla_xcalloc(g->b->dst_cap, sizeof(*g->voff));
	g->voff[p] = (uint32_t)off;
}

void sla_heapgraph_offsets(const struct sla_heapgraph *g, size_t p, uint64_t *min, uint64_t *max)
{
	const struct sla_hg_offs *o;

	if (!(g->pf[p] & SLA_HG_P_OFFS)) {
		*min = *max = voff_of(g, p);
		return;
	}
	o = offs_slot(g, (uint32_t)p);
	*min = o->min;
	*max = o->max;
}

/* The sources came out of address order: from now on every run is noted. */
static void start_runs(struct sla_heapgraph *g)
{
	struct sla_hg_build *b = g->b;
	uint32_t start = 0;

	for (uint32_t i = 0; i < g->n; i++) { /* the pairs so far, grouped by source in order */
		uint32_t n = g->first[i + 1];

		if (!n)
			continue;
		sla_xgrow(&b->runs, &b->runs_cap, b->nruns + 1, sizeof(*b->runs));
		b->runs[b->nruns++] = (struct run){ i, start, n };
		start += n;
	}
}

static inline size_t seen_home(uint32_t dst, size_t mask)
{
	return (size_t)(dst * 0x9e3779b97f4a7c15ull >> 20) & mask;
}

/* The slot of dst in the current source's table (its own, or the empty one where it goes). */
static inline struct seen *seen_slot(struct sla_hg_build *b, uint32_t dst)
{
	size_t i = seen_home(dst, b->seen_mask);

	while (b->seen[i].dst && b->seen[i].dst != dst + 1)
		i = (i + 1) & b->seen_mask;
	return &b->seen[i];
}

/*
 * A new source: its live views, whether sources still come in address
 * order, and an empty table of targets. The previous source's entries are
 * its pairs, inserted in pair order: taken out in the reverse order, each
 * is found where it went in (what lay between its home and it then still
 * does), and the table is empty again.
 */
static void new_source(struct sla_state *st, uint32_t src)
{
	struct sla_heapgraph *g = st->graph;
	struct sla_hg_build *b = g->b;
	const struct sla_block *blk = sla_hg_block(st, src);

	for (size_t p = g->npairs; p-- > b->run_start;)
		seen_slot(b, g->dst[p])->dst = 0;
	b->run_start = g->npairs;

	if (!b->unordered && b->last_src != NONE && src < b->last_src) {
		b->unordered = true;
		start_runs(g);
	}
	if (b->unordered) {
		sla_xgrow(&b->runs, &b->runs_cap, b->nruns + 1, sizeof(*b->runs));
		b->runs[b->nruns++] = (struct run){ src, (uint32_t)g->npairs, 0 };
	}
	b->last_src = src;
	b->nrg = 0;
	if (g->flags[src] & SLA_HG_PINNED) {
		uint32_t nviews = sla_block_nviews(st, blk);

		sla_xgrow(&b->rg, &b->rg_cap, nviews ? nviews : 1, sizeof(*b->rg));
		b->nrg = sla_block_view_ranges(st, blk, b->rg, b->rg_cap);
		b->view_end = b->nrg ? b->rg[b->nrg - 1].hi : blk->addr;
	}
}

/* Whether the word at loc overlaps one of the source's live view ranges. */
static bool in_view(const struct sla_hg_build *b, uint64_t loc)
{
	uint64_t end = loc + 8 < loc ? UINT64_MAX : loc + 8;
	size_t lo = 0, hi = b->nrg;

	while (lo < hi) { /* the first range ending after loc */
		size_t mid = lo + (hi - lo) / 2;

		if (b->rg[mid].hi <= loc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->nrg && b->rg[lo].lo < end;
}

/* Doubles the current source's table. */
static void seen_grow(struct sla_heapgraph *g)
{
	struct sla_hg_build *b = g->b;

	free(b->seen);
	b->seen_mask = b->seen_mask * 2 + 1;
	b->seen = sla_xcalloc(b->seen_mask + 1, sizeof(*b->seen));
	for (size_t p = b->run_start; p < g->npairs; p++)
		*seen_slot(b, g->dst[p]) = (struct seen){ g->dst[p] + 1, (uint32_t)p };
}

static void add_pair(struct sla_state *st, uint32_t src, uint64_t loc, uint32_t dst, uint64_t off)
{
	struct sla_heapgraph *g = st->graph;
	struct sla_hg_build *b = g->b;
	struct seen *sn;
	uint8_t pf = 0;
	uint32_t p;

	if (src != b->last_src)
		new_source(st, src);
	if (g->flags[src] & SLA_HG_PINNED) {
		if (in_view(b, loc))
			pf = SLA_HG_P_IN;
		else
			pf = SLA_HG_P_OUT | (loc < b->view_end ? SLA_HG_P_EARLY : 0);
	}
	sn = seen_slot(b, dst);
	if (sn->dst) { /* src's words pointed into dst before: the same pair */
		p = sn->pair;
		g->pf[p] |= pf;
		add_offset(g, p, off, false);
		return;
	}
	if (g->npairs == UINT32_MAX - 1) {
		sla_heapgraph_drop(st); /* a heap of more than 4 billion distinct edges: no graph */
		return;
	}
	p = (uint32_t)g->npairs++;
	if (g->npairs > b->dst_cap) {
		size_t cap = b->dst_cap;

		sla_xgrow(&g->dst, &cap, g->npairs, sizeof(*g->dst));
		g->pf = sla_xrealloc(g->pf, cap);
		if (g->voff) {
			g->voff = sla_xrealloc(g->voff, cap * sizeof(*g->voff));
			memset(g->voff + b->dst_cap, 0, (cap - b->dst_cap) * sizeof(*g->voff));
		}
		b->dst_cap = cap;
	}
	g->dst[p] = dst;
	g->pf[p] = pf;
	if (g->voff)
		g->voff[p] = 0;
	*sn = (struct seen){ dst + 1, p };
	if ((g->npairs - b->run_start) * 2 > b->seen_mask + 1)
		seen_grow(g);
	add_offset(g, p, off, true);
	if (b->unordered)
		b->runs[b->nruns - 1].n++;
	else
		g->first[src + 1]++;
}

void sla_heapgraph_word(struct sla_state *st, uint64_t loc, uint64_t val)
{
	struct sla_heapgraph *g = st->graph;
	struct sla_hg_build *b = g ? g->b : NULL;
	uint32_t dst, src;

	if (!b)
		return;
	g->words++;
	/* the target: a block's start through the index, else the block around val */
	dst = sla_state_find_id(st, val);
	if (dst == NONE && (dst = find(st, g->n, val)) == NONE)
		return;
	/* the source: the previous word's, the next block, or the block around loc */
	src = b->src;
	if (src == NONE || !found_at(st, g->n, src, loc)) {
		if (src != NONE && src + 1 < g->n && found_at(st, g->n, src + 1, loc))
			src++;
		else
			src = find(st, g->n, loc);
		if (src != NONE)
			b->src = src;
	}
	if (src != NONE) {
		if (src != dst) /* a block pointing into itself changes nothing */
			add_pair(st, src, loc, dst, val - lo_of(st, dst));
		return;
	}
	/*
	 * Outside blocks. In allocator memory (the brk heap, a thread arena's
	 * heap) a word is a root only in a log that may miss live blocks
	 * (sampled, or started late), and only for the block whose first byte
	 * it points to (heapgraph.h).
	 */
	if (b->partial && val == lo_of(st, dst)) {
		g->flags[dst] |= SLA_HG_ROOTED;
		return;
	}
	if (b->kind == SLF_REGION_HEAP || (b->starts_only && val != lo_of(st, dst)))
		return;
	if (b->kind == SLF_REGION_ANON) {
		size_t w = find_window(b, loc >> ARENA_HEAP_SHIFT);

		if (w != SIZE_MAX) { /* decided at the end, when every ANON region is known */
			if (!b->arena[w] && !(g->flags[dst] & SLA_HG_ROOTED)) {
				sla_xgrow(&b->pend, &b->pend_cap, b->npend + 1, sizeof(*b->pend));
				b->pend[b->npend++] = (struct pending){ dst, (uint32_t)w };
			}
			return;
		}
	}
	g->flags[dst] |= SLA_HG_ROOTED;
}

/* Sources came out of order: regroup the pairs by source (stable: runs in order). */
static void regroup(struct sla_heapgraph *g)
{
	struct sla_hg_build *b = g->b;
	uint32_t *dst = sla_xmalloc((g->npairs + 1) * sizeof(*dst));
	uint8_t *pf = sla_xmalloc(g->npairs + 1), *old_pf = g->pf;
	uint32_t *voff = g->voff ? sla_xmalloc((g->npairs + 1) * sizeof(*voff)) : NULL;
	struct sla_hg_offs *offs = g->offs;
	size_t offs_n = offs ? g->offs_mask + 1 : 0;
	uint32_t *at;

	memset(g->first, 0, ((size_t)g->n + 2) * sizeof(*g->first));
	for (size_t r = 0; r < b->nruns; r++)
		g->first[b->runs[r].src + 1] += b->runs[r].n;
	for (uint32_t i = 0; i < g->n; i++)
		g->first[i + 1] += g->first[i];
	at = sla_xmalloc(((size_t)g->n + 1) * sizeof(*at));
	memcpy(at, g->first, (size_t)g->n * sizeof(*at));
	g->offs = NULL; /* rebuilt by the pairs' new numbers */
	g->noffs = 0;
	g->pf = pf;
	for (size_t r = 0; r < b->nruns; r++) {
		const struct run *ru = &b->runs[r];

		for (uint32_t k = 0; k < ru->n; k++) {
			uint32_t from = ru->start + k, to = at[ru->src]++;

			dst[to] = g->dst[from];
			pf[to] = old_pf[from];
			if (voff)
				voff[to] = g->voff[from];
			if (pf[to] & SLA_HG_P_OFFS) {
				const struct sla_hg_offs *o = offs_in(offs, offs_n - 1, from);

				offs_add(g, to, o->min, o->max);
			}
		}
	}
	free(at);
	free(offs);
	free(old_pf);
	free(g->dst);
	free(g->voff);
	g->dst = dst;
	g->voff = voff;
	g->b->dst_cap = g->npairs + 1;
}

/* What only the reading of the scan needs. */
static void free_build(struct sla_heapgraph *g)
{
	struct sla_hg_build *b = g->b;

	if (!b)
		return;
	free(b->seen);
	free(b->win);
	free(b->arena);
	free(b->pend);
	free(b->rg);
	free(b->runs);
	free(b);
	g->b = NULL;
}

void sla_heapgraph_end(struct sla_state *st)
{
	struct sla_heapgraph *g = st->graph;
	struct sla_hg_build *b = g ? g->b : NULL;

	if (!b)
		return;
	for (size_t k = 0; k < b->npend; k++)
		if (!b->arena[b->pend[k].win])
			g->flags[b->pend[k].dst] |= SLA_HG_ROOTED;
	if (b->unordered) {
		regroup(g);
	} else { /* counting sort's prefix sums: first[i] = pairs of nodes before i */
		for (uint32_t i = 0; i < g->n; i++)
			g->first[i + 1] += g->first[i];
	}
	free_build(g);
	g->complete = true;
	/* the arrays at their size */
	g->dst = sla_xrealloc(g->dst, (g->npairs + 1) * sizeof(*g->dst));
	g->pf = sla_xrealloc(g->pf, g->npairs + 1);
	if (g->voff)
		g->voff = sla_xrealloc(g->voff, (g->npairs + 1) * sizeof(*g->voff));
}

void sla_heapgraph_drop(struct sla_state *st)
{
	struct sla_heapgraph *g = st->graph;

	if (!g)
		return;
	free_build(g);
	free(g->first);
	free(g->dst);
	free(g->pf);
	free(g->voff);
	free(g->flags);
	free(g->offs);
	free(g);
	st->graph = NULL;
}
