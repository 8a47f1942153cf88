/*
 * analyzer/replay/state.c - the data structures of one log's live state.
 *
 * Pure bookkeeping: which blocks, views, stacks and modules exist. What a
 * record means (and which situations are anomalies) is replay.c's business.
 */
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "heapgraph.h"
#include "state.h"
#include "xalloc.h"

static const char *const anomaly_names[SLA_ANOM_COUNT] = {
#define SLA_ANOM_NAME(name, desc) #name,
	SLA_ANOMALIES(SLA_ANOM_NAME)
#undef SLA_ANOM_NAME
};

static const char *const anomaly_descs[SLA_ANOM_COUNT] = {
#define SLA_ANOM_DESC(name, desc) desc,
	SLA_ANOMALIES(SLA_ANOM_DESC)
#undef SLA_ANOM_DESC
};

const char *sla_anomaly_name(enum sla_anomaly a)
{
	return anomaly_names[a];
}

const char *sla_anomaly_desc(enum sla_anomaly a)
{
	return anomaly_descs[a];
}

struct sla_state *sla_state_new(const char *path)
{
	struct sla_state *st = sla_xcalloc(1, sizeof(*st));

	st->path = sla_xstrndup(path, strlen(path));
	/* id 0: the empty stack */
	sla_xgrow(&st->stacks, &st->stacks_cap, 1, sizeof(*st->stacks));
	sla_xgrow(&st->sites, &st->sites_cap, 1, sizeof(*st->sites));
	memset(&st->stacks[0], 0, sizeof(st->stacks[0]));
	memset(&st->sites[0], 0, sizeof(st->sites[0]));
	st->nstacks = 1;
	st->last_alloc = UINT64_MAX;
	st->free_rec = UINT32_MAX;
	st->free_bv = UINT32_MAX;
	return st;
}

/*
 * Views are recycled through a free list: a freed node is reused by the
 * next view while it is still in the cache, and the analyzer does not pay
 * malloc/free per record. The list holds at most the peak of live views.
 * (Blocks have their own free list of records, below.)
 */
struct sla_free_node {
	struct sla_free_node *next;
};

static void *pool_get(struct sla_free_node **pool, size_t size)
{
	struct sla_free_node *n = *pool;

	if (!n)
		return sla_xmalloc(size);
	*pool = n->next;
	return n;
}

static void pool_put(struct sla_free_node **pool, void *p)
{
	struct sla_free_node *n = p;

	n->next = *pool;
	*pool = n;
}

static void pool_free(struct sla_free_node **pool)
{
	while (*pool) {
		struct sla_free_node *n = *pool;

		*pool = n->next;
		free(n);
	}
}

static void put_view(struct sla_state *st, struct sla_view *v)
{
	if (v->refs != &v->one)
		free(v->refs);
	pool_put(&st->view_pool, v);
}

static void noop_free(void *p)
{
	(void)p;
}

void sla_state_free(struct sla_state *st)
{
	if (!st)
		return;
	if (st->tree)
		tdestroy(st->tree, noop_free);
	/* every view is on exactly one block's list */
	for (size_t i = 0; i < st->nbviews; i++) {
		struct sla_bviews *bv = &st->bviews[i];

		while (bv->views) {
			struct sla_view *v = bv->views;

			bv->views = v->bnext;
			put_view(st, v);
		}
	}
	pool_free(&st->view_pool);
	for (size_t i = 0; i < st->npages; i++)
		free(st->pages[i]);
	free(st->pages);
	free(st->index);
	free(st->bviews);
	sla_ptrmap_free(&st->slice_views);
	sla_ptrmap_free(&st->owner_views);
	free(st->dirty);
	free(st->freed);
	sla_heapgraph_drop(st);
	for (size_t i = 0; i < st->nmods; i++) {
		free(st->mods[i].path);
		free(st->mods[i].build_id);
		free(st->mods[i].segs);
	}
	free(st->mods);
	free(st->segidx);
	free(st->stacks);
	free(st->sites);
	free(st->exe);
	free(st->interposer);
	free(st->path);
	free(st);
}

void sla_state_define_stack(struct sla_state *st, uint32_t id, uint32_t parent, uint64_t ip)
{
	if (id >= st->nstacks) {
		/* ids between the last and this one: empty until their STACK comes */
		sla_xgrow(&st->stacks, &st->stacks_cap, (size_t)id + 1, sizeof(*st->stacks));
		sla_xgrow(&st->sites, &st->sites_cap, (size_t)id + 1, sizeof(*st->sites));
		memset(&st->stacks[st->nstacks], 0, (id + 1 - st->nstacks) * sizeof(*st->stacks));
		memset(&st->sites[st->nstacks], 0, (id + 1 - st->nstacks) * sizeof(*st->sites));
		st->nstacks = (size_t)id + 1;
	}
	st->stacks[id] = (struct sla_stack_node){ .ip = ip, .parent = parent, .gen = st->gen };
	memset(&st->sites[id], 0, sizeof(st->sites[id]));
}

void sla_state_add_stack(struct sla_state *st, uint32_t parent, uint64_t ip)
{
	sla_state_define_stack(st, (uint32_t)st->nstacks, parent, ip);
}

void sla_state_reset_modules(struct sla_state *st)
{
	st->gen++;
}

void sla_state_add_module(struct sla_state *st, uint64_t bias, const char *path, size_t path_len,
			  const uint8_t *build_id, size_t build_id_len, const struct sla_seg *segs,
			  size_t nsegs)
{
	struct sla_mod *m;

	sla_xgrow(&st->mods, &st->mods_cap, st->nmods + 1, sizeof(*st->mods));
	m = &st->mods[st->nmods++];
	memset(m, 0, sizeof(*m));
	m->path = sla_xstrndup(path, path_len);
	m->build_id = sla_xmalloc(build_id_len);
	if (build_id_len) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(m->build_id, build_id, build_id_len);
	m->gen = st->gen;
	m->nsegs = nsegs;
	m->segs = sla_xmalloc(m->nsegs * sizeof(*m->segs));
	if (m->nsegs)
		memcpy(m->segs, segs, m->nsegs * sizeof(*m->segs));
	m->m.path = m->path;
	m->m.bias = bias;
	m->m.build_id = m->build_id;
	m->m.build_id_len = build_id_len;
}

static int cmp_seg_start(const void *a, const void *b)
{
	const struct sla_segidx *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Sorts the PT_LOAD segments of map generation `gen` by runtime start.
 * Modules are appended in generation order, so a generation is a
 * contiguous run of st->mods, found by binary search: a log that changes
 * its map at every stack edge costs O(modules of one generation) per
 * rebuild, not O(all modules ever).
 */
static void index_generation(struct sla_state *st, uint32_t gen)
{
	size_t lo = 0, hi = st->nmods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->mods[mid].gen < gen)
			lo = mid + 1;
		else
			hi = mid;
	}
	st->nsegidx = 0;
	for (size_t i = lo; i < st->nmods && st->mods[i].gen == gen; i++) {
		const struct sla_mod *m = &st->mods[i];

		for (size_t s = 0; s < m->nsegs; s++) {
			uint64_t start = m->m.bias + m->segs[s].vaddr;

			if (!m->segs[s].memsz || start + m->segs[s].memsz < start)
				continue; /* empty or wrapping: holds no address */
			sla_xgrow(&st->segidx, &st->segidx_cap, st->nsegidx + 1, sizeof(*st->segidx));
			st->segidx[st->nsegidx++] = (struct sla_segidx){
				.start = start, .end = start + m->segs[s].memsz, .mod = (uint32_t)i
			};
		}
	}
	if (st->nsegidx > 1) /* qsort(NULL, 0) is undefined */
		qsort(st->segidx, st->nsegidx, sizeof(*st->segidx), cmp_seg_start);
	st->segidx_gen = gen;
	st->segidx_valid = true;
}

/*
 * Binary search in the segment index of `gen`, rebuilt when another
 * generation is asked for. Stack ids grow with time and so do generations,
 * so walking stacks in id order rebuilds once per generation.
 */
const struct sla_mod *sla_state_find_module(struct sla_state *st, uint32_t gen, uint64_t ip)
{
	size_t lo = 0, hi;

	if (!st->segidx_valid || st->segidx_gen != gen || st->segidx_nmods != st->nmods) {
		index_generation(st, gen);
		st->segidx_nmods = st->nmods;
	}
	hi = st->nsegidx;
	while (lo < hi) { /* first segment starting after ip */
		size_t mid = lo + (hi - lo) / 2;

		if (st->segidx[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* segments do not overlap in a sane map; check a few before in case they do */
	for (size_t k = lo; k-- > 0 && lo - k <= 4;)
		if (ip >= st->segidx[k].start && ip < st->segidx[k].end)
			return &st->mods[st->segidx[k].mod];
	return NULL;
}

/* Orders blocks by start address (insertion, deletion). */
static int cmp_block_start(const void *a, const void *b)
{
	const struct sla_block *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Lookup comparator: the key is a fake block whose addr is the pointer
 * sought; it compares equal to the block whose range holds it. Consistent
 * with cmp_block_start because live blocks are disjoint.
 */
static int cmp_ptr_in_block(const void *key, const void *node)
{
	const struct sla_block *k = key, *b = node;
	uint64_t span = b->size ? b->size : 1;

	if (k->addr < b->addr)
		return -1;
	return k->addr - b->addr >= span ? 1 : 0;
}

static void tree_add(struct sla_state *st, struct sla_block *b)
{
	if (!tsearch(b, &st->tree, cmp_block_start))
		sla_die("out of memory (block index)");
}

static void enable_tree(struct sla_state *st)
{
	struct sla_block *b;

	st->tree_on = true;
	for (size_t i = 0; (b = sla_state_next_block(st, &i));)
		tree_add(st, b);
}

static bool view_eq(const void *item, const void *key)
{
	const uint64_t *k = key, *v = ((const struct sla_view *)item)->key;

	return v[0] == k[0] && v[1] == k[1] && v[2] == k[2];
}

static inline uint64_t view_hash(const uint64_t key[3])
{
	return sla_hash64(key[0] ^ sla_hash64(key[1] ^ sla_hash64(key[2])));
}

/*
 * The index by address: a slot holds id + 1 of a live block (0: empty) in
 * its low bits and, while ids fit in INDEX_ID_BITS, the top bits of the
 * address's hash above them: a probe reads a record only when they match.
 * Linear probing over the hash, at most half full, deletion by backward
 * shift (no tombstones).
 */
#define INDEX_ID_BITS 27

static inline uint32_t id_mask(const struct sla_state *st)
{
	return st->index_tagged ? (1u << INDEX_ID_BITS) - 1 : UINT32_MAX;
}

static inline uint32_t slot_of(const struct sla_state *st, uint64_t hash, uint32_t id)
{
	return st->index_tagged ? (uint32_t)(hash >> (64 - (32 - INDEX_ID_BITS))) << INDEX_ID_BITS | (id + 1)
				: id + 1;
}

/*
 * The record id of b. Blocks are removed right after they were looked
 * up, so the last lookup's answer is the usual one; else the pages are
 * searched (4096 records each).
 */
static inline uint32_t block_id(const struct sla_state *st, const struct sla_block *b)
{
	if (st->last_id < st->nrecords && sla_state_block(st, st->last_id) == b)
		return st->last_id;
	for (size_t p = 0;; p++)
		if (b >= st->pages[p] && b < st->pages[p] + SLA_BLOCK_PAGE)
			return (uint32_t)(p << SLA_BLOCK_PAGE_BITS | (size_t)(b - st->pages[p]));
}

static void index_put(struct sla_state *st, uint64_t addr, uint32_t id)
{
	uint64_t h = sla_hash64(addr);
	size_t i, mask = st->index_mask;

	for (i = h & mask; st->index[i]; i = (i + 1) & mask)
		;
	st->index[i] = slot_of(st, h, id);
}

/* (Re)builds the index of the live blocks, with room for one more and at least min_slots. */
static void index_build(struct sla_state *st, size_t min_slots)
{
	size_t n = 64;

	while (((size_t)st->nlive + 1) * 2 > n || n < min_slots)
		n *= 2;
	free(st->index);
	st->index = sla_xcalloc(n, sizeof(*st->index));
	st->index_mask = n - 1;
	st->index_tagged = st->nrecords + 2 < (1u << INDEX_ID_BITS); /* every id + 1 fits */
	for (uint32_t id = 0; id < st->nrecords; id++) {
		const struct sla_block *b = sla_state_block(st, id);

		if (b->vx & SLA_BLOCK_LIVE)
			index_put(st, b->addr, id);
	}
}

/* A change of the heap: the graph of the last scan describes it no more. */
static inline void changed(struct sla_state *st)
{
	if (st->graph && !st->graph->b) /* (a scan changes nothing: none while one is read) */
		sla_heapgraph_drop(st);
}

static inline void swap_blocks(struct sla_state *st, uint32_t i, uint32_t j)
{
	struct sla_block *x = sla_state_block(st, i), *y = sla_state_block(st, j), t = *x;

	*x = *y;
	*y = t;
}

static inline uint64_t addr_of(const struct sla_state *st, uint32_t i)
{
	return sla_state_block(st, i)->addr;
}

static void sift_down(struct sla_state *st, uint32_t lo, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t c = 2 * root + 1;

		if (c >= n)
			return;
		if (c + 1 < n && addr_of(st, lo + c + 1) > addr_of(st, lo + c))
			c++;
		if (addr_of(st, lo + c) <= addr_of(st, lo + root))
			return;
		swap_blocks(st, lo + root, lo + c);
		root = c;
	}
}

/* Heapsort of records [lo, hi): the introsort's way out of a bad pivot sequence. */
static void heap_sort(struct sla_state *st, uint32_t lo, uint32_t hi)
{
	uint32_t n = hi - lo;

	for (uint32_t k = n / 2; k-- > 0;)
		sift_down(st, lo, k, n);
	while (n > 1) {
		n--;
		swap_blocks(st, lo, lo + n);
		sift_down(st, lo, 0, n);
	}
}

/*
 * Introsort of records [lo, hi) by address, in place in the pages (a
 * temporary copy would cost 24 bytes a block more at the peak).
 */
static void sort_records(struct sla_state *st, uint32_t lo, uint32_t hi, int depth)
{
	while (hi - lo > 16) {
		uint32_t mid = lo + (hi - lo) / 2, i = lo, j = hi - 1;
		uint64_t pivot;

		if (depth-- == 0) {
			heap_sort(st, lo, hi);
			return;
		}
		/* median of three into mid */
		if (addr_of(st, mid) < addr_of(st, lo))
			swap_blocks(st, mid, lo);
		if (addr_of(st, hi - 1) < addr_of(st, lo))
			swap_blocks(st, hi - 1, lo);
		if (addr_of(st, hi - 1) < addr_of(st, mid))
			swap_blocks(st, hi - 1, mid);
		pivot = addr_of(st, mid);
		for (;;) { /* Hoare partition */
			while (addr_of(st, i) < pivot)
				i++;
			while (addr_of(st, j) > pivot)
				j--;
			if (i >= j)
				break;
			swap_blocks(st, i++, j--);
		}
		/* [lo, j] <= pivot <= [j + 1, hi): recurse into the smaller side */
		if (j + 1 - lo < hi - j - 1) {
			sort_records(st, lo, j + 1, depth);
			lo = j + 1;
		} else {
			sort_records(st, j + 1, hi, depth);
			hi = j + 1;
		}
	}
	for (uint32_t i = lo + 1; i < hi; i++) /* insertion sort of what is left */
		for (uint32_t k = i; k > lo && addr_of(st, k) < addr_of(st, k - 1); k--)
			swap_blocks(st, k, k - 1);
}

void sla_state_sort_blocks(struct sla_state *st)
{
	uint32_t n = 0, lim = 0, sorted = 1, moved = 0;

	/* the live records to the front, in record order */
	for (uint32_t id = 0; id < st->nrecords; id++) {
		struct sla_block *b = sla_state_block(st, id);

		if (!(b->vx & SLA_BLOCK_LIVE))
			continue;
		if (id != n) {
			*sla_state_block(st, n) = *b;
			moved = 1;
		}
		if (n && sorted && b->addr < addr_of(st, n - 1))
			sorted = 0;
		n++;
	}
	sla_assert(n == st->nlive);
	while (((uint64_t)1 << lim) < n)
		lim++;
	if (!sorted)
		sort_records(st, 0, n, 2 * (int)lim + 1);
	/* the records past them are free: give their pages back */
	for (size_t p = ((size_t)n + SLA_BLOCK_PAGE - 1) >> SLA_BLOCK_PAGE_BITS; p < st->npages; p++)
		free(st->pages[p]);
	st->npages = ((size_t)n + SLA_BLOCK_PAGE - 1) >> SLA_BLOCK_PAGE_BITS;
	st->nrecords = n;
	st->free_rec = UINT32_MAX;
	if (sorted && !moved)
		return; /* allocated in address order, none freed: every pointer still holds */
	/* what points at records: views, the interior-pointer tree, the index */
	for (uint32_t id = 0; id < n; id++) {
		struct sla_block *b = sla_state_block(st, id);

		for (struct sla_view *v = sla_block_views(st, b); v; v = v->bnext)
			v->block = b;
	}
	if (st->tree) {
		tdestroy(st->tree, noop_free);
		st->tree = NULL;
		st->tree_on = false;
	}
	sla_state_drop_index(st);
}

void sla_state_drop_index(struct sla_state *st)
{
	free(st->index);
	st->index = NULL;
}

uint32_t sla_state_find_id(struct sla_state *st, uint64_t addr)
{
	uint64_t h = sla_hash64(addr);
	uint32_t idm, tag, s;
	size_t mask;

	if (!st->index)
		index_build(st, 0);
	mask = st->index_mask;
	idm = id_mask(st);
	tag = slot_of(st, h, 0) & ~idm;
	for (size_t i = h & mask; (s = st->index[i]); i = (i + 1) & mask)
		if ((s & ~idm) == tag && sla_state_block(st, (s & idm) - 1)->addr == addr) {
			st->last_slot = i;
			return st->last_id = (s & idm) - 1;
		}
	return UINT32_MAX;
}

struct sla_block *sla_state_find_block(struct sla_state *st, uint64_t addr)
{
	uint32_t id = sla_state_find_id(st, addr);

	return id == UINT32_MAX ? NULL : sla_state_block(st, id);
}

static void index_remove(struct sla_state *st, uint32_t id)
{
	size_t mask = st->index_mask, i, j;
	uint32_t idm = id_mask(st);

	i = st->last_slot & mask; /* where the lookup before the free found it, usually */
	if ((st->index[i] & idm) != id + 1)
		for (i = sla_hash64(sla_state_block(st, id)->addr) & mask;
		     (st->index[i] & idm) != id + 1; i = (i + 1) & mask)
			sla_assert(st->index[i]); /* a live block is in the index */
	/* backward shift: pull later entries of the cluster into the hole when allowed */
	for (j = (i + 1) & mask; st->index[j]; j = (j + 1) & mask) {
		size_t home = sla_hash64(sla_state_block(st, (st->index[j] & idm) - 1)->addr) & mask;

		/* the entry at j may move to i only if its home is not in (i, j] cyclically */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			st->index[i] = st->index[j];
			i = j;
		}
	}
	st->index[i] = 0;
}

struct sla_block *sla_state_add_block(struct sla_state *st, uint64_t addr, uint64_t size,
				      uint32_t stack)
{
	struct sla_block *b;
	uint32_t id;

	if (!st->index)
		index_build(st, 0);
	else if (((size_t)st->nlive + 1) * 2 > st->index_mask + 1)
		index_build(st, (st->index_mask + 1) * 2);
	if (st->free_rec != UINT32_MAX) {
		id = st->free_rec;
		st->free_rec = (uint32_t)sla_state_block(st, id)->addr;
	} else {
		if (st->nrecords == UINT32_MAX - 1)
			sla_die("out of memory (more than %u live blocks)", UINT32_MAX - 2);
		if (st->index_tagged && st->nrecords + 2 >= (1u << INDEX_ID_BITS))
			index_build(st, st->index_mask + 1); /* ids outgrow the tags */
		id = st->nrecords++;
		if ((size_t)id >> SLA_BLOCK_PAGE_BITS == st->npages) {
			sla_xgrow(&st->pages, &st->pages_cap, st->npages + 1, sizeof(*st->pages));
			st->pages[st->npages++] = sla_xmalloc(SLA_BLOCK_PAGE * sizeof(**st->pages));
		}
	}
	b = sla_state_block(st, id);
	*b = (struct sla_block){ .addr = addr, .size = size, .stack = stack, .vx = SLA_BLOCK_LIVE };
	st->nlive++;
	changed(st);
	index_put(st, addr, id);
	st->last_id = id;
	if (st->tree_on)
		tree_add(st, b);
	return b;
}

/* b's view record, created if it has none. */
static struct sla_bviews *block_bv(struct sla_state *st, struct sla_block *b)
{
	uint32_t x;

	if (b->vx & SLA_BLOCK_VX_MASK)
		return &st->bviews[(b->vx & SLA_BLOCK_VX_MASK) - 1];
	if (st->free_bv != UINT32_MAX) {
		x = st->free_bv;
		st->free_bv = st->bviews[x].nviews;
	} else {
		if (st->nbviews == SLA_BLOCK_VX_MASK)
			sla_die("out of memory (more than %u blocks with views)", SLA_BLOCK_VX_MASK - 1);
		sla_xgrow(&st->bviews, &st->bviews_cap, st->nbviews + 1, sizeof(*st->bviews));
		x = (uint32_t)st->nbviews++;
	}
	st->bviews[x] = (struct sla_bviews){ 0 };
	b->vx = (b->vx & ~SLA_BLOCK_VX_MASK) | (x + 1);
	return &st->bviews[x];
}

/* Returns b's view record to the free list once nothing in it matters any more. */
static void release_bv(struct sla_state *st, struct sla_block *b, bool force)
{
	struct sla_bviews *bv = sla_block_bv(st, b);
	uint32_t x;

	if (!bv || (!force && (bv->nviews || bv->dirty || bv->counted)))
		return;
	sla_assert(!bv->views);
	x = (b->vx & SLA_BLOCK_VX_MASK) - 1;
	bv->nviews = st->free_bv;
	st->free_bv = x;
	b->vx &= ~SLA_BLOCK_VX_MASK;
}

void sla_state_release_views(struct sla_state *st, struct sla_block *b)
{
	release_bv(st, b, false);
}

/* Unlinks a view from its block and its map (if it is in one), then frees it. */
static void drop_view(struct sla_state *st, struct sla_view *v)
{
	struct sla_block *b = v->block;
	struct sla_bviews *bv = sla_block_bv(st, b);

	if (v->bprev)
		v->bprev->bnext = v->bnext;
	else
		bv->views = v->bnext;
	if (v->bnext)
		v->bnext->bprev = v->bprev;
	bv->nviews--;
	if (v->kind == SLA_VIEW_OWNER)
		sla_ptrmap_remove(&st->owner_views, view_hash(v->key), v);
	else if (bv->indexed)
		sla_ptrmap_remove(&st->slice_views, view_hash(v->key), v);
	st->views_live -= v->count;
	put_view(st, v);
	changed(st);
	if (!bv->nviews)
		bv->indexed = false;
	release_bv(st, b, false);
}

/* Marks a block whose views changed, for the retention peak scan. */
static inline void touch(struct sla_state *st, struct sla_block *b)
{
	struct sla_bviews *bv;

	if (!st->track_dirty)
		return;
	bv = block_bv(st, b);
	if (!bv->dirty) {
		bv->dirty = true;
		sla_xgrow(&st->dirty, &st->dirty_cap, st->ndirty + 1, sizeof(*st->dirty));
		st->dirty[st->ndirty++] = b->addr;
	}
}

void sla_state_remove_block(struct sla_state *st, struct sla_block *b)
{
	struct sla_bviews *bv = sla_block_bv(st, b);
	uint32_t id = block_id(st, b);

	if (bv) {
		while (bv->views)
			drop_view(st, bv->views);
		st->retained_total -= bv->counted;
		/* a dirty entry left behind finds no block, or a new one: both harmless */
		release_bv(st, b, true);
	}
	if (st->tree_on)
		tdelete(b, &st->tree, cmp_block_start);
	if (st->index)
		index_remove(st, id);
	b->vx = 0;
	b->addr = st->free_rec;
	st->free_rec = id;
	st->nlive--;
	changed(st);
}

void sla_state_move_views(struct sla_state *st, struct sla_block *to, struct sla_block *from)
{
	struct sla_bviews *fb, *tb;

	if (!sla_block_nviews(st, from))
		return;
	tb = block_bv(st, to); /* first: it may move st->bviews */
	fb = sla_block_bv(st, from);
	tb->views = fb->views;
	tb->nviews = fb->nviews;
	tb->indexed = fb->indexed; /* map keys hold the address, which is the same */
	for (struct sla_view *v = tb->views; v; v = v->bnext)
		v->block = to;
	fb->views = NULL;
	fb->nviews = 0;
	fb->indexed = false;
	release_bv(st, from, false);
	if (sla_state_find_block(st, to->addr) == to)
		touch(st, to);
}

struct sla_block *sla_state_block_containing(struct sla_state *st, uint64_t ptr)
{
	struct sla_block key, *b = sla_state_find_block(st, ptr);
	void *node;

	if (b)
		return b;
	if (!st->tree_on)
		enable_tree(st);
	key.addr = ptr;
	node = tfind(&key, &st->tree, cmp_ptr_in_block);
	return node ? *(struct sla_block **)node : NULL;
}

/* Creates a view on b's list with one reference. */
static struct sla_view *new_view(struct sla_state *st, struct sla_block *b,
				 enum sla_view_kind kind, uint64_t ptr, uint64_t len, uint32_t stack,
				 uint64_t time)
{
	struct sla_view *v = pool_get(&st->view_pool, sizeof(*v));
	struct sla_bviews *bv = block_bv(st, b);

	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->block = b;
	v->ptr = ptr;
	v->len = len;
	v->count = 1;
	v->cap = 1;
	v->refs = &v->one;
	v->one = (struct sla_ref){ .time = time, .stack = stack };
	v->bnext = bv->views;
	if (bv->views)
		bv->views->bprev = v;
	bv->views = v;
	bv->nviews++;
	changed(st);
	return v;
}

/*
 * The slice view (ptr, len) of block b. A block with few views is searched
 * along its list; past SLICE_SCAN_MAX views its slice views go into the
 * slice_views map for good (a parser holding thousands of sub-slices of one
 * buffer must not make every lookup linear).
 */
#define SLICE_SCAN_MAX 8

static struct sla_view *find_slice(const struct sla_state *st, const struct sla_block *b,
				   uint64_t ptr, uint64_t len)
{
	const struct sla_bviews *bv = sla_block_bv(st, b);

	if (!bv)
		return NULL;
	if (bv->indexed) {
		uint64_t key[3] = { b->addr, ptr, len };

		return sla_ptrmap_find(&st->slice_views, view_hash(key), view_eq, key);
	}
	for (struct sla_view *v = bv->views; v; v = v->bnext)
		if (v->ptr == ptr && v->len == len && v->kind == SLA_VIEW_SLICE)
			return v;
	return NULL;
}

static void index_slices(struct sla_state *st, struct sla_block *b)
{
	struct sla_bviews *bv = sla_block_bv(st, b);

	bv->indexed = true;
	for (struct sla_view *v = bv->views; v; v = v->bnext)
		if (v->kind == SLA_VIEW_SLICE)
			sla_ptrmap_insert(&st->slice_views, view_hash(v->key), v);
}

void sla_state_slice_add(struct sla_state *st, struct sla_block *b, uint64_t ptr, uint64_t len,
			 uint32_t stack, uint64_t time)
{
	struct sla_view *v = find_slice(st, b, ptr, len);

	if (!v) {
		v = new_view(st, b, SLA_VIEW_SLICE, ptr, len, stack, time);
		v->key[0] = b->addr;
		v->key[1] = ptr;
		v->key[2] = len;
		if (sla_block_bv(st, b)->indexed)
			sla_ptrmap_insert(&st->slice_views, view_hash(v->key), v);
		else if (sla_block_nviews(st, b) > SLICE_SCAN_MAX)
			index_slices(st, b);
	} else {
		if (v->count == v->cap) {
			size_t cap = v->cap;
			struct sla_ref *refs = v->refs == &v->one ? NULL : v->refs;

			sla_xgrow(&refs, &cap, (size_t)v->count + 1, sizeof(*refs));
			if (v->refs == &v->one)
				refs[0] = v->one;
			v->refs = refs;
			v->cap = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
		}
		if (v->count == UINT32_MAX)
			return; /* 4 billion identical references: stop counting */
		v->refs[v->count++] = (struct sla_ref){ .time = time, .stack = stack };
	}
	st->views_live++;
	touch(st, b);
}

bool sla_state_slice_drop(struct sla_state *st, uint64_t block, uint64_t ptr, uint64_t len)
{
	struct sla_block *b = sla_state_find_block(st, block);
	struct sla_view *v = b ? find_slice(st, b, ptr, len) : NULL;

	if (!v)
		return false;
	touch(st, b);
	if (v->count > 1) {
		v->count--; /* LIFO: the most recent reference goes */
		st->views_live--;
	} else {
		drop_view(st, v);
	}
	return true;
}

struct sla_view *sla_state_owner_find(const struct sla_state *st, uint64_t owner)
{
	uint64_t key[3] = { owner, 0, 0 };

	return sla_ptrmap_find(&st->owner_views, view_hash(key), view_eq, key);
}

void sla_state_owner_set(struct sla_state *st, uint64_t owner, struct sla_block *b, uint64_t ptr,
			 uint64_t len, uint32_t stack, uint64_t time)
{
	struct sla_view *v = sla_state_owner_find(st, owner);

	if (v) {
		touch(st, v->block);
		drop_view(st, v);
	}
	v = new_view(st, b, SLA_VIEW_OWNER, ptr, len, stack, time);
	v->key[0] = owner;
	sla_ptrmap_insert(&st->owner_views, view_hash(v->key), v);
	st->views_live++;
	touch(st, b);
}

bool sla_state_owner_release(struct sla_state *st, uint64_t owner)
{
	struct sla_view *v = sla_state_owner_find(st, owner);

	if (!v)
		return false;
	touch(st, v->block);
	drop_view(st, v);
	return true;
}

/* Slot of an address in the direct-mapped set of recently freed addresses. */
static inline size_t freed_slot(uint64_t addr)
{
	return (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ull >> (64 - SLA_FREED_BITS));
}

/*
 * A direct-mapped cache, not a complete set: O(1), no allocation, bounded
 * memory. An address evicted by a colliding free is later counted as a
 * foreign free instead of a double free.
 */
void sla_state_remember_freed(struct sla_state *st, uint64_t addr)
{
	if (!st->freed)
		st->freed = sla_xcalloc((size_t)1 << SLA_FREED_BITS, sizeof(*st->freed));
	st->freed[freed_slot(addr)] = addr;
}

bool sla_state_forget_freed(struct sla_state *st, uint64_t addr)
{
	uint64_t *slot;

	if (!st->freed)
		return false;
	slot = &st->freed[freed_slot(addr)];
	if (*slot != addr)
		return false;
	*slot = 0;
	return true;
}

const struct sla_ref *sla_block_oldest_ref(const struct sla_state *st, const struct sla_block *b,
					   enum sla_view_kind *kind)
{
	const struct sla_ref *best = NULL;

	for (const struct sla_view *v = sla_block_views(st, b); v; v = v->bnext) {
		/* refs are in creation order: refs[0] is the view's oldest live one */
		if (!best || v->refs[0].time <= best->time) { /* ties: the older view (list is newest first) */
			best = &v->refs[0];
			if (kind)
				*kind = v->kind;
		}
	}
	return best;
}

static int cmp_range(const void *a, const void *b)
{
	const struct sla_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Clip, sort by start, merge: O(v log v) for v distinct views. */
size_t sla_block_view_ranges(const struct sla_state *st, const struct sla_block *b,
			     struct sla_range *out, size_t max)
{
	uint64_t bend = b->addr + b->size < b->addr ? UINT64_MAX : b->addr + b->size;
	size_t n = 0, k = 0;

	for (const struct sla_view *v = sla_block_views(st, b); v; v = v->bnext) {
		uint64_t lo = v->ptr, hi = v->ptr + v->len;

		if (hi < lo)
			hi = UINT64_MAX; /* a corrupt length: clip at the block end below */
		if (lo < b->addr)
			lo = b->addr;
		if (hi > bend)
			hi = bend;
		if (lo < hi && n < max)
			out[n++] = (struct sla_range){ lo, hi };
	}
	if (n > 1)
		qsort(out, n, sizeof(*out), cmp_range);
	for (size_t i = 0; i < n; i++) {
		if (k && out[i].lo <= out[k - 1].hi) {
			if (out[i].hi > out[k - 1].hi)
				out[k - 1].hi = out[i].hi;
		} else {
			out[k++] = out[i];
		}
	}
	return k;
}
