/*
 * analyzer/replay/state.h - what is live in one process at one point of its log.
 *
 * One struct sla_state per log. Dense ids (stacks) live in growable arrays,
 * sparse keys (slice references, annotation owners) in hash maps. Memory is
 * proportional to live blocks, live views, unique stacks and modules, never
 * to the number of records.
 *
 * Blocks: a live block is a 24-byte record (struct sla_block) in pages of
 * SLA_BLOCK_PAGE records that never move, so a block pointer stays valid
 * while the block lives, and a freed record is reused by the next
 * allocation. The index by address is an open-addressing table of 32-bit
 * record ids (4 bytes a slot, at most half full), which compares the
 * records' own addresses: no per-block node, no per-block malloc. What few
 * blocks have, views, lives apart (struct sla_bviews), reached through
 * the record's `vx`. The index can be dropped while a pass has no use for
 * it (sla_state_drop_index(): the heap graph sorts the blocks itself); the
 * next lookup rebuilds it.
 *
 * Tables by key are open-addressing hash maps (ptrmap.h: why not uthash).
 *
 * Views (docs/design.md, section 2):
 *   - a libslice reference is anonymous: views are keyed by (block, ptr, len)
 *     with a count; each reference keeps its creation stack and time on a
 *     small LIFO stack, and a drop removes the most recent one;
 *   - an annotation view is keyed by its owner; acquiring again replaces it.
 * Every view hangs on the list of its block, so evaluating a block needs no
 * search.
 *
 * Finding the block that contains an interior pointer (VIEW_ACQUIRE gives a
 * pointer, not a block): an address-ordered index of live blocks, a glibc
 * tsearch() tree (red-black) with an interval comparator. It is built lazily,
 * on the first acquire whose pointer is not a block start, and maintained on
 * every alloc/free from then on: logs without interior annotations never pay
 * for it. Blocks are disjoint in a sane log; if a corrupt one overlaps them,
 * a lookup finds one of the candidates (never crashes).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kinds.h"
#include "module.h"
#include "ptrmap.h"

/* One stack-tree edge: the stack `id` is `parent` plus the frame `ip`. */
struct sla_stack_node {
	uint64_t ip;	 /* return address as recorded */
	uint32_t parent; /* smaller id; 0 is the empty stack */
	uint32_t gen;	 /* module map generation current when this edge was recorded */
};

/* Allocation statistics per allocation stack (indexed by stack id). */
struct sla_site {
	uint64_t allocs;      /* ALLOC + REALLOC records with this stack */
	uint64_t alloc_bytes; /* their requested sizes */
	uint64_t temps;	      /* temporary allocations (freed before any other allocation) */
	uint64_t live_bytes;  /* blocks of this stack live now */
	uint64_t live_blocks;
	uint64_t peak_bytes;  /* live_* at the heap peak, if peak_epoch is current */
	uint64_t peak_blocks;
	uint64_t peak_epoch;
};

/* One loaded ELF object of one module map generation. */
struct sla_mod {
	struct sla_module m;  /* for the symbolizer; strings owned below */
	char *path;
	uint8_t *build_id;
	uint32_t gen;	      /* the map generation it belongs to */
	struct sla_seg *segs; /* PT_LOAD segments (p_vaddr, p_memsz) */
	size_t nsegs;
};

/* One reference's origin: where and when it was created. */
struct sla_ref {
	uint64_t time;
	uint32_t stack;
};

struct sla_block;

/*
 * A live view. Slice views: key = {block, ptr, len}, count = live references,
 * refs[0..count) oldest first. Owner views: key = {owner, 0, 0}, count = 1.
 */
struct sla_view {
	uint64_t key[3];
	enum sla_view_kind kind;
	struct sla_block *block;
	uint64_t ptr, len;
	uint32_t count, cap;
	struct sla_ref *refs;		 /* points to `one` while cap == 1 */
	struct sla_ref one;
	struct sla_view *bnext, *bprev;	 /* the block's view list */
};

/*
 * A live heap block: 24 bytes, in st's pages. `vx` is an index into
 * st->bviews plus one (0: the block has no view record) in its low
 * SLA_BLOCK_VX_BITS bits, and flags above them.
 */
struct sla_block {
	uint64_t addr;
	uint64_t size;
	uint32_t stack; /* allocation stack */
	uint32_t vx;
};

#define SLA_BLOCK_VX_BITS 28
#define SLA_BLOCK_VX_MASK ((1u << SLA_BLOCK_VX_BITS) - 1)
#define SLA_BLOCK_LIVE (1u << 31) /* the record holds a live block (else it is free) */
/* bits 28..30 of vx: free for flags of a block */

/* The views of a block that has or had some (the peak scan's state with them). */
struct sla_bviews {
	struct sla_view *views;	  /* list of its distinct live views */
	uint32_t nviews;	  /* their number */
	bool dirty;		  /* on the dirty list (peak scan) */
	bool indexed;		  /* its slice views are in st->slice_views (many views) */
	uint64_t counted;	  /* retained bytes counted in the running total (peak scan) */
};

#define SLA_BLOCK_PAGE_BITS 12
#define SLA_BLOCK_PAGE ((size_t)1 << SLA_BLOCK_PAGE_BITS)

/* log2 of the slots remembering freed addresses (double-free detection). */
#define SLA_FREED_BITS 16

struct sla_free_node;

/* One PT_LOAD segment at its runtime address, for module lookups. */
struct sla_segidx {
	uint64_t start, end;
	uint32_t mod; /* index in st->mods */
};

struct sla_heapgraph;

/*
 * The latest pointer scan of a log (format 1.1). When st->collect_scans is
 * set (the evaluation state) its words go into st->graph as they are read
 * (heapgraph.h), else they are only counted.
 */
struct sla_scan {
	bool open;		  /* SCAN_BEGIN seen, SCAN_END not yet */
	bool complete;		  /* SCAN_END seen */
	bool capped;		  /* SCAN_END said the scan stopped at its cap */
	bool unread;		  /* SCAN_END said some memory could not be read (2.2) */
	bool in_region;		  /* a SCAN_REGION was read: words belong to it */
	uint64_t end_at;	  /* st->records after its SCAN_END */
	uint64_t heap_lo, heap_hi, bytes;
};

/* Everything known about one log. */
struct sla_state {
	/* the process (PROCESS record) */
	char *path; /* the log file, as given */
	uint64_t pid, ppid, start_ns;
	char *exe;
	char *interposer;	/* PROCESS: whose malloc the program called (NULL: ours) */
	uint64_t process_flags; /* PROCESS: SLF_PROCESS_* */
	uint64_t sample_bytes, exact_bytes; /* PROCESS (3.0): sampled log (sampling.h) */
	uint64_t before_start;	/* late start: frees and reallocs of blocks from before it */

	/* stacks and modules */
	struct sla_stack_node *stacks; /* [0] is the empty stack */
	struct sla_site *sites;	       /* parallel to stacks */
	size_t nstacks, stacks_cap, sites_cap;
	struct sla_mod *mods;
	size_t nmods, mods_cap;
	uint32_t gen; /* current module map generation */
	struct sla_segidx *segidx;     /* segments of generation segidx_gen, sorted */
	size_t nsegidx, segidx_cap, segidx_nmods;
	uint32_t segidx_gen;
	bool segidx_valid;

	/* live objects */
	struct sla_block **pages;      /* block records: id -> pages[id >> PAGE_BITS][id % PAGE] */
	size_t npages, pages_cap;
	uint32_t nrecords;	       /* records ever used (ids below this) */
	uint32_t nlive;		       /* live blocks among them */
	uint32_t free_rec;	       /* free record list (through addr), UINT32_MAX: empty */
	uint32_t *index;	       /* block id + 1 by address hash, 0 empty; NULL: dropped */
	size_t index_mask;
	bool index_tagged;	       /* slots carry hash bits above the id (state.c) */
	uint32_t last_id;	       /* the last block looked up or added */
	size_t last_slot;	       /* the index slot of the last block looked up */
	struct sla_bviews *bviews;     /* views of blocks that have some: [vx - 1] */
	size_t nbviews, bviews_cap;
	uint32_t free_bv;	       /* free list of bviews (through nviews), UINT32_MAX: empty */
	struct sla_ptrmap slice_views; /* struct sla_view by {block, ptr, len}, of indexed blocks */
	struct sla_ptrmap owner_views; /* struct sla_view by {owner} */
	uint64_t *freed;	       /* recently freed addresses, direct-mapped, 2^SLA_FREED_BITS */
	void *tree;		       /* tsearch index of blocks by address, once enabled */
	bool tree_on;
	struct sla_free_node *view_pool; /* freed view nodes for reuse (state.c) */

	/* running figures */
	uint64_t time_ns;	       /* time of the last record */
	uint64_t live_bytes, live_blocks;
	uint64_t peak_bytes, peak_blocks, peak_time_ns, peak_epoch;
	double live_var, peak_var;     /* sampled log: variance of live_bytes, of peak_bytes */
	uint64_t allocs, frees, bytes_allocated, temps;
	uint64_t last_alloc;	       /* address of the last allocation (temporaries) */
	/*
	 * 2.x: each thread's last FREE (by tid, direct-mapped): whether it
	 * counted a temporary, so that a REALLOC with SLF_REALLOC_OLD_FREED
	 * right after it in the thread's stream can take that back (replay.c).
	 */
	struct sla_last_free {
		uint64_t tid, addr;
		uint32_t stack;
		uint64_t temp; /* the temporaries it counted (sampled: weighted), or 0 */
	} last_free[64];
	uint64_t views_live;

	/* retention peak scan (only when track_dirty) */
	bool track_dirty;
	uint64_t *dirty;	       /* addresses of blocks whose views changed */
	size_t ndirty, dirty_cap;
	uint64_t retained_total;       /* sum of the blocks' `counted` */

	/* pointer scans (format 1.1) */
	bool collect_scans;	       /* keep the latest scan's pointers (evaluation state) */
	struct sla_scan scan;	       /* the latest scan */
	struct sla_heapgraph *graph;   /* its heap graph (collect_scans), while the heap is the scan's */
	uint64_t scans;		       /* complete scans replayed */
	bool scan_at_end;	       /* the scan right before END is complete */

	/* the log itself */
	uint64_t records;	       /* records replayed */
	uint64_t unknown_records;      /* of kinds this version does not know (skipped) */
	bool ended, truncated;
	uint64_t dropped;	       /* END's count of events the writer lost */
	uint64_t anomalies[SLA_ANOM_COUNT];
};

/* Constructor/destructor. `path` is copied. */
struct sla_state *sla_state_new(const char *path);
void sla_state_free(struct sla_state *st);

/* Stacks: appends the edge with the next id (the reader checked parent < id). */
void sla_state_add_stack(struct sla_state *st, uint32_t parent, uint64_t ip);
/*
 * Defines stack `id` (2.x ids arrive out of numeric order: the table grows to
 * hold id, ids not defined yet stay empty stacks with no allocations).
 */
void sla_state_define_stack(struct sla_state *st, uint32_t id, uint32_t parent, uint64_t ip);

/* Modules: a new generation (MODULES_RESET), and one module of it. */
void sla_state_reset_modules(struct sla_state *st);
void sla_state_add_module(struct sla_state *st, uint64_t bias, const char *path, size_t path_len,
			  const uint8_t *build_id, size_t build_id_len, const struct sla_seg *segs,
			  size_t nsegs);

/*
 * The module of map generation `gen` whose PT_LOAD segment holds `ip`, or
 * NULL. O(log segments); keeps a sorted index of one generation (not const).
 */
const struct sla_mod *sla_state_find_module(struct sla_state *st, uint32_t gen, uint64_t ip);

/* Block record `id` (below st->nrecords). */
static inline struct sla_block *sla_state_block(const struct sla_state *st, uint32_t id)
{
	return &st->pages[id >> SLA_BLOCK_PAGE_BITS][id & (SLA_BLOCK_PAGE - 1)];
}

/*
 * Iterates the live blocks, in record order (no particular address order):
 *	for (size_t i = 0; (b = sla_state_next_block(st, &i));)
 */
static inline struct sla_block *sla_state_next_block(const struct sla_state *st, size_t *i)
{
	while (*i < st->nrecords) {
		struct sla_block *b = sla_state_block(st, (uint32_t)(*i)++);

		if (b->vx & SLA_BLOCK_LIVE)
			return b;
	}
	return NULL;
}

/* The view record of b, or NULL when it has none. */
static inline struct sla_bviews *sla_block_bv(const struct sla_state *st, const struct sla_block *b)
{
	uint32_t x = b->vx & SLA_BLOCK_VX_MASK;

	return x ? &st->bviews[x - 1] : NULL;
}

/* The number of distinct live views of b, and their list (newest first). */
static inline uint32_t sla_block_nviews(const struct sla_state *st, const struct sla_block *b)
{
	const struct sla_bviews *bv = sla_block_bv(st, b);

	return bv ? bv->nviews : 0;
}

static inline struct sla_view *sla_block_views(const struct sla_state *st, const struct sla_block *b)
{
	const struct sla_bviews *bv = sla_block_bv(st, b);

	return bv ? bv->views : NULL;
}

/* A byte range [lo, hi). */
struct sla_range {
	uint64_t lo, hi;
};

/*
 * The union of b's live view ranges, clipped to b, as sorted disjoint
 * ranges (touching ones merged) into out, which has room for max (at
 * least sla_block_nviews()). Returns how many.
 */
size_t sla_block_view_ranges(const struct sla_state *st, const struct sla_block *b,
			     struct sla_range *out, size_t max);

/*
 * Sorts the live blocks by address: afterwards they are records 0 ..
 * nlive - 1 (the heap graph's nodes). Block pointers taken before are
 * void.
 */
void sla_state_sort_blocks(struct sla_state *st);

/* Frees the index by address until the next lookup (which rebuilds it). */
void sla_state_drop_index(struct sla_state *st);
/* Frees b's view record if it holds nothing any more (no view, not dirty, nothing counted). */
void sla_state_release_views(struct sla_state *st, struct sla_block *b);

/* Blocks. add() expects no live block at addr; remove() frees the block and its views. */
struct sla_block *sla_state_find_block(struct sla_state *st, uint64_t addr);
/* The record id of the live block at addr, or UINT32_MAX. */
uint32_t sla_state_find_id(struct sla_state *st, uint64_t addr);
struct sla_block *sla_state_add_block(struct sla_state *st, uint64_t addr, uint64_t size,
				      uint32_t stack);
void sla_state_remove_block(struct sla_state *st, struct sla_block *b);
/*
 * Hands the views of `from` to `to` (same address: a realloc in place; one
 * of them may be a placeholder not in the map while the other is replaced).
 */
void sla_state_move_views(struct sla_state *st, struct sla_block *to, struct sla_block *from);
/* The live block whose range holds `ptr` (a zero-size block holds its own address), or NULL. */
struct sla_block *sla_state_block_containing(struct sla_state *st, uint64_t ptr);

/* Slice references: add one; drop the most recent one (false: there was none). */
void sla_state_slice_add(struct sla_state *st, struct sla_block *b, uint64_t ptr, uint64_t len,
			 uint32_t stack, uint64_t time);
bool sla_state_slice_drop(struct sla_state *st, uint64_t block, uint64_t ptr, uint64_t len);

/* Annotation views: set (replacing the owner's previous view) and release (false: none). */
void sla_state_owner_set(struct sla_state *st, uint64_t owner, struct sla_block *b, uint64_t ptr,
			 uint64_t len, uint32_t stack, uint64_t time);
bool sla_state_owner_release(struct sla_state *st, uint64_t owner);
/* The owner's current view, or NULL. */
struct sla_view *sla_state_owner_find(const struct sla_state *st, uint64_t owner);

/*
 * Recently freed addresses, to tell a double free from a foreign one.
 * forget() returns whether addr was remembered (and forgets it).
 */
void sla_state_remember_freed(struct sla_state *st, uint64_t addr);
bool sla_state_forget_freed(struct sla_state *st, uint64_t addr);

/* The oldest live reference among the block's views (NULL when it has none). */
const struct sla_ref *sla_block_oldest_ref(const struct sla_state *st, const struct sla_block *b,
					   enum sla_view_kind *kind);
