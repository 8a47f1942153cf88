/*
 * analyzer/analyze/deadregion.h - blocks kept alive through the dead regions of
 * view-pinned blocks (docs/design.md, section 2, "Dead region").
 *
 * Input: the heap graph of a state at an evaluation point (heapgraph.h:
 * the live blocks, the edges between them and the blocks roots point to,
 * from the pointer scan the shim took there).
 *
 * The model, LeakSanitizer's reachability with views added:
 *   - a block with >= 1 live view is view-pinned: alive by definition (its
 *     views are held by reference counts), so the words inside its live
 *     views are roots too; the rest of it is its DEAD REGION;
 *   - reachable: the targets of roots, transitively; a reachable block that
 *     is not view-pinned passes on all its words, a view-pinned one only
 *     the words inside its live views (its dead region is never a way in);
 *   - kept alive through a dead region: a block that is not reachable but
 *     is reached from the dead region of a view-pinned block (the holder),
 *     transitively through blocks that are themselves only reachable that
 *     way (which pass on all their words, or only their live views' words
 *     when view-pinned). A kept block belongs to the first holder that
 *     reaches it: a breadth-first search from all dead regions at once,
 *     holders in address order, each holder's words in address order.
 * A word that overlaps a live view at all counts as inside it.
 *
 * Findings: kept blocks grouped by (their allocation stack, the holder's
 * oldest live view's stack, the holder's allocation stack); see results.h
 * for what is counted. Cost on top of the graph: O(B + E) for B live
 * blocks and E edges; memory 8 bytes per block.
 *
 * Limits: the scan is conservative (any word that looks like a pointer
 * counts, so a stale value in a root can hide a finding, and an integer
 * can look like a pointer); a capped scan misses pointers (roots too, so
 * its findings may include blocks that are in fact reachable).
 */
#pragma once

#include <stdint.h>

#include "heapgraph.h"
#include "results.h"
#include "stacks.h"
#include "state.h"

/*
 * With `findings`, adds the dead_region findings of `st` (evaluated at log
 * time eval_ns) to `res`, from its heap graph `g`, built from the
 * evaluation point's scan (which the caller has checked), and the kept
 * bytes to res->retained_bytes; the kept blocks are flagged SLA_HG_KEPT in
 * `g` either way. With `leaks` (the scan is the end's, where the leaks
 * are), also classifies every live block that nothing reachable or kept
 * points to as a direct or indirect leak (results.h, struct sla_group) and counts the log in
 * res->classified_logs.
 */
void sla_deadregion_collect(struct sla_results *res, struct sla_heapgraph *g,
			    struct sla_state *st, struct sla_stackset *set,
			    const struct sla_thresholds *th, uint64_t eval_ns, bool findings,
			    bool leaks);
