/*
 * analyzer/analyze/owner.h - big memory kept alive by small blocks: the
 * dominator tree of the live heap, and retained size by owner.
 *
 * The graph is the heap graph of heapgraph.h plus one root, whose edges go
 * to every block a root pointer points into, to every view-pinned block
 * (its views hold it, by reference counts), and to every block a word
 * inside a live view points into. Its dominator tree (dominators.h) says,
 * for every reachable block, the one block (or the root) that all its
 * paths from the roots go through last: free that block, and everything
 * in its dominator subtree becomes unreachable.
 *
 * The finding:
 *   - a block is countable unless it is already part of a view_pinned
 *     finding (a view-pinned block that is a finding) or of a dead_region
 *     finding (kept through a dead region): no byte is counted twice;
 *   - a live block v of at least min_block_size, countable, whose immediate
 *     dominator u is a live block of at most max_owner_size makes u an
 *     OWNER;
 *   - every countable block that is not an owner belongs to its nearest
 *     strict ancestor in the dominator tree that is an owner, if any (each
 *     block counted once, for its nearest owner); an owner's retained bytes
 *     are the sizes of the blocks that belong to it;
 *   - owners retaining at least min_block_size and at least
 *     min_owner_ratio times their own size are reported, grouped by (the
 *     owner's allocation stack, the allocation stack of most of its
 *     retained bytes); a group's blocks/block_bytes/min_size/max_size count
 *     the retained blocks of that second stack, its retained_bytes all of
 *     them, and ref_min..ref_max the offsets at which the owners' own words
 *     point into the blocks of that stack they dominate directly.
 * The owned bytes are summed in res->owned_bytes, apart from retained_bytes.
 *
 * Limits: the scan is conservative, so a stale word in a root or another
 * block adds a path and can hide an owner (an integer that looks like a
 * pointer can too); a capped scan misses words, so its owners are partial.
 * Cost on top of the graph: O(E log B) for the dominators, O(B log B) for
 * the grouping; memory 20 bytes per block and 4 per edge (dominators.h),
 * then 20 per block for the grouping.
 */
#pragma once

#include "heapgraph.h"
#include "results.h"
#include "stacks.h"
#include "state.h"

/*
 * Adds the owner findings of `st` (whose graph is `g`, after the
 * dead-region pass flagged its kept blocks) to `res`.
 */
void sla_owner_collect(struct sla_results *res, struct sla_heapgraph *g, struct sla_state *st,
		       struct sla_stackset *set, const struct sla_thresholds *th);
