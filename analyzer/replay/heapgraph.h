/*
 * analyzer/replay/heapgraph.h - the live heap as a graph, built from the
 * pointer scan of an evaluation point while replay reads it (every aligned
 * word of the process's writable memory whose value lies in the heap's
 * span), word by word: the scan's words are never held.
 *
 * Nodes are the live blocks, in address order: at SCAN_BEGIN the state
 * sorts its block records by address (sla_state_sort_blocks()), so node i
 * is block record i. A candidate pointer (loc, val) points to the live
 * block holding val (interior pointers count; a zero-size block holds its
 * own address); it is
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
 * A sampled log knows only some of the live blocks (and a log whose recording
 * started late, none from before the start): a word of heap memory
 * (the brk heap, threads' arena heaps) outside every recorded block may lie
 * in a live block the sampler passed over, which may be reachable. Such a
 * word is a root there for the block whose first byte it points to, so a
 * block is not called leaked because the path to it runs through memory
 * the log cannot see. Interior pointers from there do not count: freed
 * chunks keep stale allocator links, which point to chunk headers (glibc
 * mangles its tcache and fastbin links besides) and, taken as roots, hid
 * a third of the leaks of sample_leak.c. So a block referenced only by an
 * interior pointer held in an unsampled block counts as leaked. And a
 * sampled block with views is a root, not SLA_HG_PINNED: findings are made
 * of exactly recorded blocks.
 * A block with >= 1 live view is flagged SLA_HG_PINNED. The dead-region
 * and owner analyses share one graph.
 *
 * Edges are kept once per (src, dst) pair, however many words of src
 * point into dst: what the analyses need of the words is summed up in the
 * pair's flags (a word inside one of src's live views, one outside them,
 * one outside them before the end of src's last view) and the smallest and
 * largest offset into dst they point at (4 bytes a pair once a word points
 * past a target's first byte, the few pairs with several offsets apart). Pairs are stored by source
 * (CSR: first[], dst[], pf[]), each source's pairs in the order of their
 * first word. The order of a source's pairs changes no result of the
 * analyses (they are about reachability, first holders in address order
 * and dominators), nor do duplicates.
 *
 * Memory: 24-byte block records (the state's own), 4 bytes per node for
 * first[], 1 for the flags, 5 per pair (9 with interior pointers); while the scan is read, a table of
 * the current source's targets (8 bytes a slot, twice its distinct
 * targets). The scan's words cost nothing once read: a 512 MiB scan of
 * 1000 blocks is at most a million pairs. Cost: O(B log B) to sort the
 * blocks (nothing when they are in order already), then per word one
 * probe of the index by address (a pointer to a block's start) or a
 * binary search (an interior pointer), and one probe of the source's
 * table.
 *
 * The graph describes the heap of its scan: a later change of a block or a
 * view frees it (st->graph is NULL then).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define SLA_HG_NONE UINT32_MAX

/* Per-block flags; bits from SLA_HG_PRIVATE up belong to the analysis running. */
enum {
	SLA_HG_PINNED = 1,  /* >= 1 live view */
	SLA_HG_ROOTED = 2,  /* a root pointer points into it */
	SLA_HG_KEPT = 4,    /* kept alive through a dead region (set by deadregion.c) */
	SLA_HG_PRIVATE = 8,
};

/* Per-pair flags (of a pinned source's words; a source without views sets none). */
enum {
	SLA_HG_P_IN = 1,    /* a word inside one of src's live views */
	SLA_HG_P_OUT = 2,   /* a word outside them (in src's dead region) */
	SLA_HG_P_EARLY = 4, /* such a word before the end of src's last live view */
	SLA_HG_P_OFFS = 8,  /* words point at different offsets of dst, or past 4 GiB (kept apart) */
};

struct sla_hg_build;

struct sla_heapgraph {
	uint32_t n;	 /* nodes: block records 0 .. n-1, in address order */
	uint32_t *first; /* n + 1 entries: the pairs of node i are [first[i], first[i + 1]) */
	uint32_t *dst;	 /* pair -> target node */
	uint8_t *pf;	 /* pair -> SLA_HG_P_* */
	size_t npairs;
	uint8_t *flags;	 /* node -> SLA_HG_* */
	uint64_t words;	 /* candidate pointers read */
	bool complete;	 /* the scan's SCAN_END was read */
	struct sla_hg_build *b; /* while the scan is read */
	/* the offsets into the target: one per pair, and the pairs with SLA_HG_P_OFFS apart */
	uint32_t *voff;
	struct sla_hg_offs *offs;
	size_t offs_mask, noffs;
};

/* Block node i of the graph of st. */
static inline struct sla_block *sla_hg_block(const struct sla_state *st, uint32_t i)
{
	return sla_state_block(st, i);
}

/*
 * Replay's side (replay.c's scan handlers), for a state that collects
 * scans: a new graph replaces st->graph at SCAN_BEGIN; then every region
 * and every word; SCAN_END completes it. Returns nothing: a heap with more
 * blocks than 32-bit ids can number or more pairs than 32-bit offsets gets
 * no graph (st->graph stays NULL).
 */
void sla_heapgraph_begin(struct sla_state *st);
void sla_heapgraph_region(struct sla_state *st, unsigned kind, uint64_t start, uint64_t size);
void sla_heapgraph_word(struct sla_state *st, uint64_t loc, uint64_t val);
void sla_heapgraph_end(struct sla_state *st);

/* Frees st->graph, if any (st->graph is NULL afterwards). */
void sla_heapgraph_drop(struct sla_state *st);

/* The smallest and largest offset into dst[p] that the words of pair p point at. */
void sla_heapgraph_offsets(const struct sla_heapgraph *g, size_t p, uint64_t *min, uint64_t *max);
