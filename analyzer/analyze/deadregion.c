/* analyzer/analyze/deadregion.c - blocks kept alive through dead regions (see deadregion.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sliceleak/format.h>

#include "deadregion.h"
#include "retention.h"
#include "trace.h"
#include "xalloc.h"
#include "units.h"

#define NONE UINT32_MAX

/* Per-block flags. */
enum {
	F_PINNED = 1, /* >= 1 live view */
	F_REACH = 2,  /* reachable from the roots */
	F_HEAD = 4,   /* holder: a keeping pointer lies before its last view's end */
	F_INDIRECT = 8, /* unreachable, and another unreachable block points to it */
};

/* A live block in address order. */
struct dr_block {
	uint64_t lo, hi;
	struct sla_block *b;
};

/* A candidate pointer inside a live block: the word at loc of src points into dst. */
struct dr_edge {
	uint64_t loc;
	uint32_t src, dst;
};

struct dr {
	struct dr_block *blk;
	uint32_t n;
	struct dr_edge *edges;
	size_t nedges, edges_cap;
	size_t *first;	 /* edges of block i: [first[i], first[i + 1]) */
	uint8_t *flags;
	uint32_t *owner; /* the holder a kept block belongs to, or NONE */
	uint32_t *queue;
	size_t qhead, qtail;
	struct sla_range *rg; /* scratch: one block's live view ranges */
	size_t nrg, rg_cap;
};

static int cmp_block(const void *a, const void *b)
{
	const struct dr_block *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_edge(const void *a, const void *b)
{
	const struct dr_edge *x = a, *y = b;

	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->loc < y->loc ? -1 : x->loc > y->loc;
}

/*
 * The live block holding address x (a zero-size block holds its own
 * address), or NONE: the last block starting at or below x, by binary
 * search. Overlapping blocks (a corrupt log) give one of them.
 */
static uint32_t find(const struct dr *d, uint64_t x)
{
	uint32_t lo = 0, hi = d->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (d->blk[mid].lo <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NONE;
	lo--;
	if (x < d->blk[lo].hi || x == d->blk[lo].lo)
		return lo;
	return NONE;
}

/* Block i's live view ranges, clipped to it, sorted and merged, into d->rg. */
static void view_ranges(struct dr *d, uint32_t i)
{
	const struct sla_block *b = d->blk[i].b;

	sla_xgrow(&d->rg, &d->rg_cap, b->nviews ? b->nviews : 1, sizeof(*d->rg));
	d->nrg = sla_block_view_ranges(b, d->rg, d->rg_cap);
}

/*
 * Whether the word at loc overlaps one of d->rg. Called with increasing loc
 * for one block: *k is the sweep position, starting at 0.
 */
static bool in_view(const struct dr *d, size_t *k, uint64_t loc)
{
	uint64_t end = loc + 8 < loc ? UINT64_MAX : loc + 8;

	while (*k < d->nrg && d->rg[*k].hi <= loc)
		(*k)++;
	return *k < d->nrg && d->rg[*k].lo < end;
}

static void add_edge(struct dr *d, uint32_t src, uint64_t loc, uint32_t dst)
{
	if (d->nedges == d->edges_cap)
		sla_xgrow(&d->edges, &d->edges_cap, d->nedges + 1, sizeof(*d->edges));
	d->edges[d->nedges++] = (struct dr_edge){ loc, src, dst };
}

static void reach(struct dr *d, uint32_t i)
{
	if (d->flags[i] & F_REACH)
		return;
	d->flags[i] |= F_REACH;
	d->queue[d->qtail++] = i;
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
static size_t arena_windows(const struct dr *d, const struct sla_scan *sc, uint64_t **out)
{
	const struct sla_scan_region **anon = sla_xmalloc((sc->nregions + 1) * sizeof(*anon));
	uint64_t *w = sla_xmalloc(((size_t)d->n + 1) * sizeof(*w));
	size_t nanon = 0, nw = 0, k = 0;

	for (size_t r = 0; r < sc->nregions; r++)
		if (sc->regions[r].kind == SLF_REGION_ANON)
			anon[nanon++] = &sc->regions[r];
	qsort(anon, nanon, sizeof(*anon), cmp_region_start);
	for (uint32_t i = 0; i < d->n && nanon; i++) { /* blocks in address order: a sweep */
		uint64_t lo = d->blk[i].lo;

		while (k < nanon && anon[k]->start + anon[k]->size <= lo)
			k++;
		if (k < nanon && anon[k]->start <= lo && d->blk[i].hi - lo < MMAP_THRESHOLD &&
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

/*
 * The blocks in address order, then every candidate pointer classified:
 * into no block (dropped), from a block (an edge), from a root region (its
 * target is reachable), from the brk heap outside blocks (dropped).
 *
 * The C library's writable segment holds the allocator's own state
 * (main_arena: its top chunk's and its bins' chunk headers, which lie in
 * the last 8 bytes of the block before them when that block uses its
 * whole chunk): there only a word pointing at a block's first byte is a
 * root (stdio's buffer bases, environ, NSS's tables all do). The heaps of
 * threads' arenas hold no roots at all (arena_windows()).
 */
static void build(struct dr *d, struct sla_state *st)
{
	const struct sla_scan *sc = &st->scan;
	struct sla_block *b;
	uint64_t *win;
	size_t nwin;
	uint32_t n = 0;

	d->blk = sla_xmalloc(((size_t)st->live_blocks + 1) * sizeof(*d->blk));
	for (size_t i = 0; (b = sla_state_next_block(st, &i)) && n < st->live_blocks;) {
		uint64_t hi = b->addr + b->size < b->addr ? UINT64_MAX : b->addr + b->size;

		d->blk[n++] = (struct dr_block){ b->addr, hi, b };
	}
	d->n = n;
	qsort(d->blk, n, sizeof(*d->blk), cmp_block);
	d->flags = sla_xcalloc((size_t)n + 1, 1);
	d->owner = sla_xmalloc(((size_t)n + 1) * sizeof(*d->owner));
	d->queue = sla_xmalloc(((size_t)n + 1) * sizeof(*d->queue));
	d->first = sla_xcalloc((size_t)n + 2, sizeof(*d->first));
	for (uint32_t i = 0; i < n; i++) {
		d->owner[i] = NONE;
		if (d->blk[i].b->nviews)
			d->flags[i] |= F_PINNED;
	}
	nwin = arena_windows(d, sc, &win);
	for (size_t r = 0; r < sc->nregions; r++) {
		const struct sla_scan_region *rg = &sc->regions[r];
		bool starts_only = rg->kind == SLF_REGION_GLOBALS && rg->n && libc_region(st, rg);
		bool arena = rg->kind == SLF_REGION_ANON && nwin;

		for (size_t k = rg->first; k < rg->first + rg->n; k++) {
			uint32_t dst = find(d, sc->ptrs[k].val), src;

			if (dst == NONE)
				continue;
			src = find(d, sc->ptrs[k].loc);
			if (src != NONE) {
				if (src != dst) /* a block pointing into itself changes nothing */
					add_edge(d, src, sc->ptrs[k].loc, dst);
			} else if (rg->kind != SLF_REGION_HEAP &&
				   (!starts_only || sc->ptrs[k].val == d->blk[dst].lo) &&
				   !(arena && in_windows(win, nwin, sc->ptrs[k].loc))) {
				reach(d, dst);
			}
		}
	}
	free(win);
	if (d->nedges)
		qsort(d->edges, d->nedges, sizeof(*d->edges), cmp_edge);
	/* counting sort's prefix sums: first[i] = edges of blocks before i */
	for (size_t e = 0; e < d->nedges; e++)
		d->first[d->edges[e].src + 1]++;
	for (uint32_t i = 0; i < n; i++)
		d->first[i + 1] += d->first[i];
}

/*
 * Phase 1: the roots' targets are queued already; add the targets of every
 * view-pinned block's live views, then follow non-pinned reachable blocks'
 * words. A pinned block passes on only its views' words, queued here once.
 */
static void phase_reachable(struct dr *d)
{
	for (uint32_t i = 0; i < d->n; i++) {
		size_t k = 0;

		if (!(d->flags[i] & F_PINNED) || d->first[i] == d->first[i + 1])
			continue;
		view_ranges(d, i);
		for (size_t e = d->first[i]; e < d->first[i + 1]; e++)
			if (in_view(d, &k, d->edges[e].loc))
				reach(d, d->edges[e].dst);
	}
	while (d->qhead < d->qtail) {
		uint32_t t = d->queue[d->qhead++];

		if (d->flags[t] & F_PINNED)
			continue;
		for (size_t e = d->first[t]; e < d->first[t + 1]; e++)
			reach(d, d->edges[e].dst);
	}
}

/* A block neither reachable nor kept yet becomes holder h's. */
static bool keep(struct dr *d, uint32_t t, uint32_t h)
{
	if ((d->flags[t] & F_REACH) || d->owner[t] != NONE)
		return false;
	d->owner[t] = h;
	d->queue[d->qtail++] = t;
	return true;
}

/*
 * Phase 2: a breadth-first search from every dead region at once. The first
 * level is the dead regions' direct targets, holders in address order; a
 * kept block passes its holder on to what it reaches (all its words; a
 * pinned one's live views are roots already, its dead region is a source
 * of its own).
 */
static void phase_dead(struct dr *d)
{
	d->qhead = d->qtail = 0;
	for (uint32_t h = 0; h < d->n; h++) {
		uint64_t view_end;
		size_t k = 0;

		if (!(d->flags[h] & F_PINNED) || d->first[h] == d->first[h + 1])
			continue;
		view_ranges(d, h);
		view_end = d->nrg ? d->rg[d->nrg - 1].hi : d->blk[h].lo;
		for (size_t e = d->first[h]; e < d->first[h + 1]; e++) {
			const struct dr_edge *ed = &d->edges[e];

			if (in_view(d, &k, ed->loc))
				continue;
			if (keep(d, ed->dst, h) && ed->loc < view_end)
				d->flags[h] |= F_HEAD;
		}
	}
	while (d->qhead < d->qtail) {
		uint32_t t = d->queue[d->qhead++];

		if (d->flags[t] & F_PINNED)
			continue;
		for (size_t e = d->first[t]; e < d->first[t + 1]; e++)
			keep(d, d->edges[e].dst, d->owner[t]);
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

	for (uint32_t t = 0; t < d->n; t++) {
		const struct sla_block *b = d->blk[t].b, *hb;
		const struct sla_ref *oldest;
		enum sla_view_kind kind = SLA_VIEW_SLICE;
		struct sla_finding *f;
		uint64_t used = 0, retained;

		if (d->owner[t] == NONE)
			continue;
		hb = d->blk[d->owner[t]].b;
		oldest = sla_block_oldest_ref(hb, &kind);
		f = sla_results_dead_finding(res, sla_stackset_intern(set, st, b->stack),
					     sla_stackset_intern(set, st, oldest->stack),
					     sla_stackset_intern(set, st, hb->stack));
		/* a kept block that is a view_pinned finding itself has its waste counted there */
		retained = sla_block_is_finding(b, th, &used) ? used : b->size;
		sla_finding_add_block(res, f, kind, b->size, 0, retained, sla_pinned_s(oldest, eval_ns));
		if (nkept == cap)
			sla_xgrow(&kept, &cap, nkept + 1, sizeof(*kept));
		kept[nkept++] = (struct kept){ f, d->owner[t] };
	}
	if (nkept)
		qsort(kept, nkept, sizeof(*kept), cmp_kept);
	for (size_t i = 0; i < nkept; i++) {
		const struct sla_block *hb = d->blk[kept[i].h].b;
		struct sla_finding *f = kept[i].f;

		if (i && kept[i].f == kept[i - 1].f && kept[i].h == kept[i - 1].h)
			continue;
		f->holder_blocks++;
		f->holder_bytes = sla_sat_add(f->holder_bytes, hb->size);
		f->holder_used_bytes = sla_sat_add(f->holder_used_bytes, sla_block_used(hb));
		for (const struct sla_view *v = hb->views; v; v = v->bnext)
			f->holder_views += v->count;
		if (d->flags[kept[i].h] & F_HEAD)
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
	for (size_t e = 0; e < d->nedges; e++) {
		const struct dr_edge *ed = &d->edges[e];

		if (!(d->flags[ed->src] & F_REACH) && d->owner[ed->src] == NONE)
			d->flags[ed->dst] |= F_INDIRECT;
	}
	for (uint32_t t = 0; t < d->n; t++) {
		const struct sla_block *b = d->blk[t].b;
		struct sla_stack_acc *a;

		if ((d->flags[t] & F_REACH) || d->owner[t] != NONE)
			continue;
		a = sla_results_acc(res, sla_stackset_intern(set, st, b->stack));
		if (d->flags[t] & F_INDIRECT) {
			a->indirect_bytes = sla_sat_add(a->indirect_bytes, b->size);
			a->indirect_blocks++;
			res->indirect_bytes = sla_sat_add(res->indirect_bytes, b->size);
			res->indirect_blocks++;
		} else {
			a->direct_bytes = sla_sat_add(a->direct_bytes, b->size);
			a->direct_blocks++;
			res->direct_bytes = sla_sat_add(res->direct_bytes, b->size);
			res->direct_blocks++;
		}
	}
	res->classified_logs++;
}

/* --trace-block: what the pointer scan says of the traced block. */
static void trace_reach(const struct dr *d, bool classified)
{
	for (uint32_t t = 0; t < d->n; t++) {
		const struct sla_block *b = d->blk[t].b, *hb;

		if (!sla_traced(b->addr, b->size))
			continue;
		if (d->flags[t] & F_PINNED) {
			sla_trace(b->addr, "pointer scan: view-pinned, alive through its views");
		} else if (d->flags[t] & F_REACH) {
			sla_trace(b->addr, "pointer scan: reachable from a root");
		} else if (d->owner[t] != NONE) {
			hb = d->blk[d->owner[t]].b;
			sla_trace(b->addr, "pointer scan: kept alive only through the dead region of the "
				  "view-pinned block 0x%" PRIx64 " (%" PRIu64 " bytes): a dead_region "
				  "finding", hb->addr, hb->size);
		} else {
			sla_trace(b->addr, "pointer scan: unreachable%s", !classified ? "" :
				  d->flags[t] & F_INDIRECT ? ", an indirect leak (only unreachable "
							     "blocks point to it)" :
							     ", a direct leak (nothing points to it)");
		}
	}
}

void sla_deadregion_collect(struct sla_results *res, struct sla_state *st,
			    struct sla_stackset *set, const struct sla_thresholds *th,
			    uint64_t eval_ns, bool findings, bool leaks)
{
	struct dr d = { 0 };

	if (st->live_blocks >= NONE)
		return; /* ids are 32-bit: not a heap any scan could cover anyway */
	build(&d, st);
	phase_reachable(&d);
	phase_dead(&d);
	if (findings)
		collect(&d, res, st, set, th, eval_ns);
	if (leaks)
		classify_leaks(&d, res, st, set);
	if (sla_trace_addr)
		trace_reach(&d, leaks);
	free(d.blk);
	free(d.edges);
	free(d.first);
	free(d.flags);
	free(d.owner);
	free(d.queue);
	free(d.rg);
}
