/*
 * analyzer/analyze/heapgraph.h - the live heap as a graph, from the pointer
 * scan of an evaluation point (st->scan: every aligned word of the
 * process's writable memory whose value lies in the heap's span).
 *
 * Nodes are the live blocks, in address order. A candidate pointer (loc,
 * val) points to the live block holding val (interior pointers count; a
 * zero-size block holds its own address); it is
 *   - an edge src -> dst when loc lies in a live block src (within its
 *     requested size) other than dst;
 *   - a root pointer, flagging dst SLA_HG_ROOTED, when loc lies in no block
 *     and its region is GLOBALS, STACK or ANON (or a kind this version
 *     does not know); in the C library's own writable segment (the
 *     allocator's main_arena lives there, pointing at chunk headers inside
 *     the last 8 bytes of blocks) only a word pointing at a block's first
 *     byte is a root;
 *   - ignored in the brk heap outside blocks (allocator metadata, freed
 *     memory), in the heaps of threads' arenas (64 MiB-aligned windows of
 *     anonymous memory holding blocks below the mmap threshold), which are
 *     like the brk heap, and when val lies in no live block.
 * A block with >= 1 live view is flagged SLA_HG_PINNED. The dead-region
 * and owner analyses share one graph (analysis.c builds it once).
 *
 * Memory: 24 bytes per block for the block table, 8 for the edge index,
 * 1 for the flags, 16 per edge. Cost: O(B log B + P log B + E log E) for B
 * blocks, P candidate pointers and E edges.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retention.h" /* struct sla_range */
#include "state.h"

#define SLA_HG_NONE UINT32_MAX

/* Per-block flags; bits from SLA_HG_PRIVATE up belong to the analysis running. */
enum {
	SLA_HG_PINNED = 1,  /* >= 1 live view */
	SLA_HG_ROOTED = 2,  /* a root pointer points into it */
	SLA_HG_KEPT = 4,    /* kept alive through a dead region (set by deadregion.c) */
	SLA_HG_PRIVATE = 8,
};

/* A live block in address order: [lo, hi). */
struct sla_hg_block {
	uint64_t lo, hi;
	struct sla_block *b;
};

/* An edge: the word at loc of block src points into block dst. */
struct sla_hg_edge {
	uint64_t loc;
	uint32_t src, dst;
};


struct sla_heapgraph {
	struct sla_hg_block *blk;
	uint32_t n;
	struct sla_hg_edge *edges; /* sorted by (src, loc) */
	size_t nedges, edges_cap;
	size_t *first;		   /* edges of block i: [first[i], first[i + 1]) */
	uint8_t *flags;
	const struct sla_scan *scan;
	const struct sla_state *st;
	/* scratch of sla_heapgraph_view_ranges() */
	struct sla_range *rg;
	size_t nrg, rg_cap;
};

/*
 * Builds the graph of st's live blocks and st->scan. Returns false (and
 * builds nothing) when the heap has too many blocks for 32-bit ids.
 */
bool sla_heapgraph_build(struct sla_heapgraph *g, struct sla_state *st);
void sla_heapgraph_free(struct sla_heapgraph *g);

/* The block holding address x, or SLA_HG_NONE. */
uint32_t sla_heapgraph_find(const struct sla_heapgraph *g, uint64_t x);

/* Block i's live view ranges, clipped to it, sorted and merged, into g->rg[0..g->nrg). */
void sla_heapgraph_view_ranges(struct sla_heapgraph *g, uint32_t i);

/*
 * Whether the word at loc overlaps one of g->rg. Called with increasing
 * loc for one block: *k is the sweep position, starting at 0.
 */
bool sla_heapgraph_in_view(const struct sla_heapgraph *g, size_t *k, uint64_t loc);
